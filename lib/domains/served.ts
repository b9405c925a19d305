import type { IncomingMessage } from "node:http";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import { hostWithoutPort, type DomainService } from "./names";

/**
 * Which custom domains this server answers on, by Host. Every domain's name,
 * team, face and status are held in memory and reloaded at most every
 * SNAPSHOT_MS (one query per server however many requests or Host values
 * arrive: a flood of made-up names costs nothing), and at once when a change
 * is made here. A domain that fails or is deleted stops being served within
 * SNAPSHOT_MS on every server.
 */
export const SNAPSHOT_MS = 2000;

export interface ServedDomain {
  id: string;
  teamId: string;
  name: string;
  service: DomainService;
  status: string;
}

interface Snapshot {
  byName: Map<string, ServedDomain>;
  loadedAt: number;
}

const state = processWide("served-domains", () => ({ snapshot: null as Snapshot | null, loading: null as Promise<Snapshot> | null, generation: 0 }));

async function load(): Promise<Snapshot> {
  const generation = state.generation;
  const rows = await db.domain.findMany({ select: { id: true, teamId: true, name: true, service: true, status: true } });
  const snapshot = { byName: new Map(rows.map((r) => [r.name, { ...r, service: r.service as DomainService }])), loadedAt: Date.now() };
  // A change made while this was loading: keep the older view out of the cache.
  if (generation === state.generation) state.snapshot = snapshot;
  return snapshot;
}

async function snapshot(): Promise<Snapshot> {
  const s = state.snapshot;
  if (s && Date.now() - s.loadedAt < SNAPSHOT_MS) return s;
  state.loading ??= load().finally(() => {
    state.loading = null;
  });
  try {
    return await state.loading;
  } catch (e) {
    // The database is away: the last view is better than refusing every custom domain.
    if (s) {
      log.warn("custom domains: reload failed, serving the last view", { error: e });
      return s;
    }
    throw e;
  }
}

/** Forgets the view (a domain changed on this server). */
export function forgetServedDomains(): void {
  state.generation++;
  state.snapshot = null;
}

/** The custom domain a Host header names (port ignored), whatever its status; null: not a custom domain. */
export async function domainForHost(host: string | undefined): Promise<ServedDomain | null> {
  if (!host) return null;
  const name = hostWithoutPort(host);
  if (!name || name.startsWith("[")) return null;
  return (await snapshot()).byName.get(name) ?? null;
}

/** For GET /tls/ask: whether a certificate may be issued for this name (a verified domain). */
export async function isVerifiedDomain(name: string): Promise<boolean> {
  const d = await domainForHost(name);
  return d?.status === "verified";
}

/** The verified domain a request came in on, set by the HTTP server's routing (null: Gantry's own host). */
const onRequest = new WeakMap<IncomingMessage, ServedDomain>();

export function setRequestDomain(req: IncomingMessage, domain: ServedDomain): void {
  onRequest.set(req, domain);
}

export function requestDomain(req: IncomingMessage): ServedDomain | null {
  return onRequest.get(req) ?? null;
}
