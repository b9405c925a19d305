import { isIP } from "node:net";
import { env } from "@/lib/env";
import { challengeName, hostWithoutPort, type DomainService, type DomainStatus } from "./names";

export const CLAIM_DAYS = 7;
export const RECHECK_MS = 24 * 3600_000;
export const MISSES_TO_FAIL = 2;
const DAY_MS = 24 * 3600_000;

export const DOMAIN_FIELDS = {
  id: true,
  teamId: true,
  name: true,
  service: true,
  status: true,
  token: true,
  defaultFor: true,
  createdAt: true,
  verifiedAt: true,
  failedAt: true,
  checkedAt: true,
  nextCheckAt: true,
  misses: true,
  message: true,
  targetOk: true,
} as const;

export interface DomainRow {
  id: string;
  teamId: string;
  name: string;
  service: string;
  status: string;
  token: string;
  defaultFor: string | null;
  createdAt: Date;
  verifiedAt: Date | null;
  failedAt: Date | null;
  checkedAt: Date | null;
  nextCheckAt: Date;
  misses: number;
  message: string;
  targetOk: boolean | null;
}

/** The host a domain of this face must point at: the operator's GANTRY_PROXY_URL / GANTRY_REGISTRY_URL host. */
export function targetHost(service: DomainService): string {
  const urls = env().urls;
  return hostWithoutPort((service === "registry" ? (urls.registry ?? urls.proxy) : urls.proxy).host);
}

/** When another team may take over this claim (a pending one 7 days after it was made, a failed one 7 days after it failed); null: held. */
export function claimExpiresAt(d: Pick<DomainRow, "status" | "createdAt" | "failedAt">): Date | null {
  if (d.status === "pending") return new Date(d.createdAt.getTime() + CLAIM_DAYS * DAY_MS);
  if (d.status === "failed" && d.failedAt) return new Date(d.failedAt.getTime() + CLAIM_DAYS * DAY_MS);
  return null;
}

/**
 * A verified domain whose record was missed once: it fails at the next check
 * that misses it too. Hours until that scheduled check (at least 1).
 */
export function failsInHours(d: Pick<DomainRow, "status" | "misses" | "nextCheckAt">, now = new Date()): number | null {
  if (d.status !== "verified" || d.misses < 1) return null;
  return Math.max(1, Math.ceil((d.nextCheckAt.getTime() - now.getTime()) / 3600_000));
}

/** A domain as the API and the portal show it (the token is the TXT value the owner publishes: not a secret). */
export function presentDomain(d: DomainRow, now = new Date()) {
  const service = d.service as DomainService;
  const hours = failsInHours(d, now);
  return {
    id: d.id,
    name: d.name,
    service,
    status: d.status as DomainStatus,
    verification: { type: "TXT" as const, name: challengeName(d.name), value: d.token },
    // A CNAME to Gantry's host name; an A (AAAA) record when Gantry is reached by address.
    target: { type: targetType(targetHost(service)), name: d.name, value: targetHost(service), ok: d.targetOk },
    default: d.defaultFor !== null,
    createdAt: d.createdAt.toISOString(),
    verifiedAt: d.verifiedAt?.toISOString() ?? null,
    checkedAt: d.checkedAt?.toISOString() ?? null,
    nextCheckAt: d.status === "pending" ? null : d.nextCheckAt.toISOString(),
    message: d.message,
    claimExpiresAt: claimExpiresAt(d)?.toISOString() ?? null,
    warning:
      hours !== null
        ? `The TXT record ${challengeName(d.name)} was not found at the last check: ${d.name} stops being served, and pull secrets for it stop working, in ${hours} hour${hours === 1 ? "" : "s"} unless the record returns.`
        : null,
  };
}

export type DomainView = ReturnType<typeof presentDomain>;

const targetType = (host: string): "CNAME" | "A" | "AAAA" => (isIP(host.replace(/^\[|\]$/g, "")) === 6 ? "AAAA" : isIP(host) === 4 ? "A" : "CNAME");
