import "server-only";
import { recordActivity, type Actor } from "@/lib/activity/record";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { checkDns, type DnsCheck } from "./dns";
import { challengeName, type DomainService } from "./names";
import { DOMAIN_FIELDS, MISSES_TO_FAIL, RECHECK_MS, targetHost, type DomainRow } from "./present";
import { forgetServedDomains } from "./served";

const RETRY_AFTER_ERROR_MS = 3600_000;

export interface CheckOutcome {
  status: string;
  misses: number;
  message: string;
  verifiedAt?: Date;
  failedAt?: Date | null;
  /** A definitive answer (found or not): checkedAt moves; a DNS error leaves it. */
  answered: boolean;
  event: "domain.verified" | "domain.failed" | null;
}

/**
 * The state machine, without I/O. A found record verifies (from any state); a
 * missing one leaves a pending claim pending, counts a miss against a verified
 * domain (failed at MISSES_TO_FAIL consecutive misses) and leaves a failed one
 * failed; a DNS error (timeout, SERVFAIL) changes nothing but the message.
 */
export function nextState(d: Pick<DomainRow, "name" | "status" | "misses">, dns: DnsCheck, now: Date): CheckOutcome {
  const txt = challengeName(d.name);
  const pointer = dns.target.ok === false ? ` Warning: ${dns.target.detail}; customers reach Gantry only if it forwards there.` : "";
  if (dns.record === "error") {
    return { status: d.status, misses: d.misses, answered: false, event: null, message: `DNS lookup of ${txt} failed (${dns.error ?? "error"}): nothing changed; checked again later.` };
  }
  if (dns.record === "found") {
    return {
      status: "verified",
      misses: 0,
      answered: true,
      event: d.status === "verified" ? null : "domain.verified",
      ...(d.status === "verified" ? {} : { verifiedAt: now }),
      failedAt: null,
      message: `Verified: ${txt} holds the token.${pointer}`,
    };
  }
  if (d.status === "pending") return { status: "pending", misses: 0, answered: true, event: null, message: `No TXT record with the token at ${txt} yet (DNS changes can take a while).${pointer}` };
  if (d.status === "failed") return { status: "failed", misses: d.misses, answered: true, event: null, message: `Not served: the TXT record ${txt} is missing. Publish it again and verify.` };
  const misses = d.misses + 1;
  if (misses >= MISSES_TO_FAIL) {
    return { status: "failed", misses, answered: true, event: "domain.failed", failedAt: now, message: `Failed: ${txt} was missing at ${misses} checks in a row, so ${d.name} is no longer served.` };
  }
  return { status: "verified", misses, answered: true, event: null, message: `The TXT record ${txt} was not found (${misses} of ${MISSES_TO_FAIL} misses): publish it again before the next check.` };
}

/**
 * Checks one domain now and stores the outcome with a conditional update on
 * the state that was read: of two servers checking at once, one writes (the
 * other's answer would be the same DNS anyway). Returns the stored row.
 */
export async function checkDomain(d: DomainRow, actor: Actor, now = new Date(), ip: string | null = null): Promise<DomainRow> {
  const dns = await checkDns(d.name, d.token, targetHost(d.service as DomainService));
  const out = nextState(d, dns, now);
  const nextCheckAt = new Date(now.getTime() + (out.answered ? RECHECK_MS : RETRY_AFTER_ERROR_MS));
  const stored = await db.$transaction(async (tx) => {
    const { count } = await tx.domain.updateMany({
      where: { id: d.id, status: d.status, misses: d.misses },
      data: {
        status: out.status,
        misses: out.misses,
        message: out.message,
        nextCheckAt,
        ...(out.answered ? { checkedAt: now, targetOk: dns.target.ok } : {}),
        ...(out.verifiedAt ? { verifiedAt: out.verifiedAt } : {}),
        ...(out.failedAt !== undefined ? { failedAt: out.failedAt } : {}),
      },
    });
    if (count === 1 && out.event) {
      await recordActivity(tx, {
        teamId: d.teamId,
        actor,
        action: out.event,
        resourceType: "domain",
        resourceId: d.id,
        metadata: { name: d.name, service: d.service, ...(out.event === "domain.failed" ? { misses: out.misses } : {}) },
        ip,
      });
    }
    return tx.domain.findUnique({ where: { id: d.id }, select: DOMAIN_FIELDS });
  });
  if (out.event) forgetServedDomains();
  if (out.event === "domain.failed") log.warn("custom domain failed", { domain: d.name, teamId: d.teamId });
  return stored ?? d;
}

const SYSTEM: Actor = { type: "system", label: "Gantry (domain re-check)" };

export interface RecheckReport {
  checked: number;
  failed: number;
  verified: number;
  expiredClaims: number;
}

/**
 * Re-checks every verified and failed domain whose time has come (every 24 h;
 * an hour after a DNS error), and drops pending claims older than 7 days.
 * Each domain is claimed first by moving its nextCheckAt with a conditional
 * update, so of several servers ticking at once exactly one checks it.
 */
export async function recheckDue(now = new Date(), opts: { batch?: number; concurrency?: number } = {}): Promise<RecheckReport> {
  const report: RecheckReport = { checked: 0, failed: 0, verified: 0, expiredClaims: 0 };
  const due = await db.domain.findMany({
    where: { status: { in: ["verified", "failed"] }, nextCheckAt: { lte: now } },
    select: DOMAIN_FIELDS,
    orderBy: { nextCheckAt: "asc" },
    take: opts.batch ?? 500,
  });
  let next = 0;
  const worker = async () => {
    for (let d = due[next++]; d; d = due[next++]) {
      const { count } = await db.domain.updateMany({ where: { id: d.id, nextCheckAt: d.nextCheckAt }, data: { nextCheckAt: new Date(now.getTime() + RECHECK_MS) } });
      if (count !== 1) continue; // another server took it
      try {
        const after = await checkDomain(d, SYSTEM, now);
        report.checked++;
        if (after.status !== d.status && after.status === "failed") report.failed++;
        if (after.status !== d.status && after.status === "verified") report.verified++;
      } catch (e) {
        log.error("custom domain re-check failed", { domain: d.name, error: e });
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  report.expiredClaims = await dropExpiredClaims(now);
  return report;
}

async function dropExpiredClaims(now: Date): Promise<number> {
  const before = new Date(now.getTime() - 7 * 24 * 3600_000);
  const stale = await db.domain.findMany({ where: { status: "pending", createdAt: { lt: before } }, select: { id: true, teamId: true, name: true, service: true }, take: 500 });
  let dropped = 0;
  for (const d of stale) {
    await db.$transaction(async (tx) => {
      const { count } = await tx.domain.deleteMany({ where: { id: d.id, status: "pending" } });
      if (count !== 1) return;
      dropped++;
      await recordActivity(tx, { teamId: d.teamId, actor: SYSTEM, action: "domain.expired", resourceType: "domain", resourceId: d.id, metadata: { name: d.name, service: d.service } });
    });
  }
  if (dropped) forgetServedDomains();
  return dropped;
}

/** Runs recheckDue hourly (and once shortly after start) on every server; never twice at once here. */
export function startDomainRecheckTimer(everyMs = 3600_000, firstAfterMs = 90_000): () => void {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    recheckDue()
      .then((r) => {
        if (r.checked || r.expiredClaims) log.info("custom domains re-checked", { ...r });
      })
      .catch((e: unknown) => log.error("custom domain re-check failed", { error: e }))
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(run, firstAfterMs).unref();
  const every = setInterval(run, everyMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
