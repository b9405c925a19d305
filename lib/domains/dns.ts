import "server-only";
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { env } from "@/lib/env";
import { challengeName } from "./names";

/**
 * What DNS says about a domain, through node's Resolver (the servers of
 * GANTRY_DNS_SERVERS, else the system's). Each lookup is bounded (3 s, one
 * try per server) and all of them run at once, so a check takes at most a
 * few seconds even when the resolver never answers.
 *
 * - record: "found" (a TXT value at _gantry-challenge.<name> equals the token),
 *   "missing" (NXDOMAIN, no TXT, or other values: an authoritative no), or
 *   "error" (timeout, SERVFAIL, refused, unreachable: no answer either way,
 *   so callers keep the domain's state);
 * - target: whether the name points at Gantry's host for its face: a CNAME to
 *   it, or an address in common with it (load balancers use A/AAAA records).
 *   Only a warning: null when it could not be told.
 */
export type RecordCheck = "found" | "missing" | "error";

export interface DnsCheck {
  record: RecordCheck;
  /** For "error": what failed (ETIMEOUT, ESERVFAIL…). */
  error?: string;
  target: { ok: boolean | null; detail: string };
}

const NO_DATA = new Set(["ENOTFOUND", "ENODATA", "ENONAME"]);
const MAX_TXT_RECORDS = 50;

function resolver(): Resolver {
  const r = new Resolver({ timeout: 3000, tries: 1 });
  const servers = env().dnsServers;
  if (servers.length) r.setServers(servers);
  return r;
}

const codeOf = (e: unknown) => (e && typeof e === "object" && "code" in e ? String((e as { code: unknown }).code) : "EUNKNOWN");

export async function checkDns(name: string, token: string, targetHost: string): Promise<DnsCheck> {
  const r = resolver();
  const [record, target] = await Promise.all([txtRecord(r, name, token), pointsAt(r, name, targetHost)]);
  return { ...record, target };
}

async function txtRecord(r: Resolver, name: string, token: string): Promise<{ record: RecordCheck; error?: string }> {
  try {
    const records = await r.resolveTxt(challengeName(name));
    // A TXT record is a list of strings of at most 255 bytes each: long values are split, so join them.
    const found = records.slice(0, MAX_TXT_RECORDS).some((chunks) => chunks.join("") === token);
    return { record: found ? "found" : "missing" };
  } catch (e) {
    const code = codeOf(e);
    return NO_DATA.has(code) ? { record: "missing" } : { record: "error", error: code };
  }
}

async function addresses(r: Resolver, host: string): Promise<Set<string> | null> {
  if (isIP(host)) return new Set([host]);
  const [v4, v6] = await Promise.all([r.resolve4(host).catch(() => null), r.resolve6(host).catch(() => null)]);
  if (!v4 && !v6) return null;
  return new Set([...(v4 ?? []), ...(v6 ?? [])]);
}

/** Whether `name` points at `targetHost` (a host name or an IP, without a port). */
async function pointsAt(r: Resolver, name: string, targetHost: string): Promise<DnsCheck["target"]> {
  const target = targetHost.replace(/^\[|\]$/g, "").toLowerCase();
  const [cname, mine, theirs] = await Promise.all([r.resolveCname(name).catch(() => [] as string[]), addresses(r, name), addresses(r, target)]);
  if (cname.some((c) => c.toLowerCase().replace(/\.$/, "") === target)) return { ok: true, detail: `CNAME ${target}` };
  if (!mine) return { ok: cname.length ? false : null, detail: cname.length ? `CNAME ${cname[0]}, not ${target}` : `${name} has no CNAME, A or AAAA record yet` };
  if (!theirs) return { ok: null, detail: `could not resolve ${target} to compare` };
  const shared = [...mine].some((a) => theirs.has(a));
  return shared ? { ok: true, detail: `${[...mine].join(", ")}, as ${target}` } : { ok: false, detail: `${name} points elsewhere (${[...mine].slice(0, 4).join(", ")}), not at ${target}` };
}
