import "server-only";
import { db } from "@/lib/db";
import { appDomains } from "@/lib/domains/app-domains";
import { notFound } from "@/lib/errors";
import { licenseFile } from "@/lib/licenses/customers";
import { daysLeft, licenseState } from "@/lib/licenses/state";
import { bundleZip, installerForLicenseRow, safeFileName } from "@/lib/releases/installer";
import { describePin, releaseWithinPin } from "@/lib/releases/scope";
import { isValidVersion, newestFirst } from "@/lib/releases/version";
import { FILE_PATHS } from "@/lib/rewrite/file-paths";
import type { InstallSession } from "./session";

/**
 * What a signed-in customer sees on the install page: their license, the
 * releases they may install (not archived, within their pin), the exact
 * commands for each, and their own pulls. Everything is read for the session's
 * license row only: there is no parameter by which a customer could name
 * another license, customer or app.
 */
export const PULLS_SHOWN = 50;
export const PULL_DAYS = 14;

export interface InstallRelease {
  version: string;
  notes: string;
  createdAt: Date;
  charts: { name: string; repository: string; version: string; appVersion: string | null }[];
  commands: { helmLogin: string | null; helmInstall: string[]; kubectl: string };
}

const LICENSE_ENV = "GANTRY_LICENSE_ID";

function commandsFor(app: { slug: string }, version: string, registryHost: string | null, charts: InstallRelease["charts"]): InstallRelease["commands"] {
  const dir = `${app.slug}-${version}`;
  const kustomize = FILE_PATHS["kustomization.yaml"].replace(/\/kustomization\.yaml$/, "");
  return {
    // The license ID comes from the environment: it never has to be pasted into a command line or shell history.
    helmLogin: registryHost && charts.length ? `echo "$${LICENSE_ENV}" | helm registry login ${registryHost} --username LICENSE_ID --password-stdin` : null,
    helmInstall: registryHost
      ? charts.map((c) => `helm install ${c.name} oci://${registryHost}/${app.slug}/${c.repository} --version ${c.version} --namespace ${app.slug} --create-namespace`)
      : [],
    kubectl: `unzip ${dir}.zip -d ${dir} && kubectl apply -k ${dir}/${kustomize}`,
  };
}

export async function customerView(session: InstallSession, now = new Date()) {
  const license = await db.license.findUnique({
    where: { id: session.licenseRowId },
    select: {
      fingerprint: true,
      expiresAt: true,
      revokedAt: true,
      maxVersion: true,
      releasedBefore: true,
      createdAt: true,
      customer: { select: { name: true, type: true } },
      app: { select: { id: true, name: true, slug: true, team: { select: { name: true } } } },
    },
  });
  if (!license) throw notFound("License");
  const state = licenseState(license, now);
  const pin = { maxVersion: license.maxVersion, releasedBefore: license.releasedBefore };
  const [domains, rows, pulls, recent] = await Promise.all([
    appDomains(session.teamId, session.appId),
    state === "active"
      ? db.release.findMany({
          where: { appId: session.appId, teamId: session.teamId, archivedAt: null },
          select: { version: true, notes: true, createdAt: true, charts: { select: { name: true, repository: true, tag: true, appVersion: true }, orderBy: { reference: "asc" } } },
          orderBy: { createdAt: "desc" },
          take: 500,
        })
      : Promise.resolve([]),
    db.pullEvent.findMany({
      where: { licenseId: session.licenseRowId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: PULLS_SHOWN,
      select: { id: true, repository: true, kind: true, reference: true, method: true, status: true, bytesSent: true, durationMs: true, clientIp: true, userAgent: true, createdAt: true },
    }),
    dailyCounts(session.licenseRowId, now),
  ]);
  const registryHost = domains.registry?.host ?? null;
  const releases: InstallRelease[] = rows
    .filter((r) => releaseWithinPin(r, pin))
    .sort((a, b) => newestFirst(a.version, b.version))
    .map((r) => {
      // Helm pushes a version's "+" (build metadata) as "_" in the tag, and `--version` wants the version.
      const charts = r.charts.map((c) => ({ name: c.name, repository: c.repository, version: c.tag.replace(/_/g, "+"), appVersion: c.appVersion }));
      return { version: r.version, notes: r.notes, createdAt: r.createdAt, charts, commands: commandsFor(license.app, r.version, registryHost, charts) };
    });
  return {
    app: { name: license.app.name, slug: license.app.slug, vendor: license.app.team.name },
    customer: license.customer.name,
    license: {
      type: license.customer.type,
      fingerprint: license.fingerprint,
      expiresAt: license.expiresAt,
      state,
      daysLeft: daysLeft(license.expiresAt, now),
      pin: pin.maxVersion !== null || pin.releasedBefore !== null ? describePin(pin) : null,
    },
    hosts: { proxy: domains.proxy.host, registry: registryHost },
    licenseEnv: LICENSE_ENV,
    releases,
    pulls: pulls.map((p) => ({ ...p, bytesSent: Number(p.bytesSent) })),
    daily: recent,
  };
}

export type CustomerView = Awaited<ReturnType<typeof customerView>>;

function dayStart(now: Date, daysBack: number): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - daysBack);
  return d;
}

/** Requests and bytes per UTC day for the last PULL_DAYS days, oldest first, zero days included: one indexed aggregate per day. */
async function dailyCounts(licenseId: string, now: Date): Promise<{ day: string; requests: number; bytes: number }[]> {
  return Promise.all(
    Array.from({ length: PULL_DAYS }, async (_, i) => {
      const from = dayStart(now, PULL_DAYS - 1 - i);
      const to = new Date(from.getTime() + 86_400_000);
      const agg = await db.pullEvent.aggregate({ where: { licenseId, createdAt: { gte: from, lt: to } }, _count: { _all: true }, _sum: { bytesSent: true } });
      return { day: from.toISOString().slice(0, 10), requests: agg._count._all, bytes: Number(agg._sum.bytesSent ?? 0n) };
    }),
  );
}

/** A release the session's license may install now, or NOT_FOUND (archived, beyond the pin, not active, another app's). */
async function installableRelease(session: InstallSession, version: string): Promise<{ appSlug: string; version: string }> {
  if (!isValidVersion(version)) throw notFound("Release");
  const license = await db.license.findUnique({ where: { id: session.licenseRowId }, select: { expiresAt: true, revokedAt: true, maxVersion: true, releasedBefore: true, app: { select: { slug: true } } } });
  if (!license || licenseState(license) !== "active") throw notFound("Release");
  const release = await db.release.findFirst({ where: { appId: session.appId, teamId: session.teamId, version, archivedAt: null }, select: { version: true, createdAt: true } });
  if (!release || !releaseWithinPin(release, { maxVersion: license.maxVersion, releasedBefore: license.releasedBefore })) throw notFound("Release");
  return { appSlug: license.app.slug, version: release.version };
}

/** The installer zip of a release for the session's own license. */
export async function customerBundle(session: InstallSession, version: string): Promise<{ filename: string; zip: Uint8Array }> {
  const release = await installableRelease(session, version);
  const { files } = await installerForLicenseRow(session.teamId, release.appSlug, release.version, session.licenseRowId);
  return { filename: `${safeFileName(release.appSlug)}-${safeFileName(release.version)}.zip`, zip: bundleZip(files) };
}

/** The session's own signed license file. */
export async function customerLicenseFile(session: InstallSession): Promise<{ filename: string; yaml: string }> {
  return licenseFile(session.teamId, session.licenseRowId);
}
