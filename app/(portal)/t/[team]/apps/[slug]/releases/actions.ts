"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction, type ActionResult } from "@/lib/http/team-action";
import { archiveRelease, createRelease, reprobeRelease, unarchiveRelease } from "@/lib/releases/releases";
import { setExtraPatterns, setLicensePin } from "@/lib/releases/scope";

const inApp = z.object({ team: z.string(), app: z.string().min(1) });
const onRelease = inApp.extend({ version: z.string().min(1).max(200) });
const lines = (text: string | undefined) => (text ?? "").split("\n").map((s) => s.trim()).filter(Boolean);
const releasePath = (team: string, app: string, version: string) => `/t/${team}/apps/${app}/releases/${encodeURIComponent(version)}`;

/** Manifest files as the New release form sends them: JSON in one hidden field. */
const manifestFiles = z
  .string()
  .max(6_000_000)
  .optional()
  .transform((text, c) => {
    if (!text) return [];
    try {
      return z.array(z.object({ name: z.string().max(200), content: z.string() })).max(50).parse(JSON.parse(text));
    } catch {
      c.addIssue({ code: "custom", message: "The manifests could not be read; reload the page and try again." });
      return z.NEVER;
    }
  });

export const createReleaseAction = teamAction(
  "app:manage",
  inApp.extend({
    version: z.string().trim().max(200),
    notes: z.string().max(20_000).optional(),
    files: manifestFiles,
    images: z.string().max(1_000_000).optional(),
    /** Comma- or space-separated "os/arch[/variant]"; blank: every platform. */
    platforms: z.string().max(2_000).optional(),
    /** The checkbox: present ("on") when checked. */
    airgapPublic: z.string().max(10).optional(),
    charts: z
      .string()
      .max(100_000)
      .optional()
      .transform((v, c) => {
        try {
          return z.array(z.string()).parse(JSON.parse(v || "[]"));
        } catch {
          c.addIssue({ code: "custom", message: "The chart list did not arrive whole: reload the page." });
          return z.NEVER;
        }
      }),
  }),
  async ({ app, version, notes, files, images, platforms, airgapPublic, charts }, ctx) => {
    const release = await createRelease(ctx, app, {
      version,
      notes: notes || undefined,
      files: files.filter((f) => f.content.trim()),
      images: lines(images),
      platforms: (platforms ?? "").split(/[\s,]+/).filter(Boolean),
      airgapPublic: airgapPublic === "on",
      charts,
    });
    revalidatePath(`/t/${ctx.team.slug}/apps/${app}`);
    redirect(`${releasePath(ctx.team.slug, app, release.version)}?created=1`);
  },
);

type ReprobeChanges = Awaited<ReturnType<typeof reprobeRelease>>["changes"];

export const reprobeReleaseAction = teamAction("app:manage", onRelease, async ({ app, version }, ctx): Promise<ActionResult<ReprobeChanges>> => {
  const { changes, probedWith, release } = await reprobeRelease(ctx, app, version);
  revalidatePath(releasePath(ctx.team.slug, app, version));
  // Re-probing uses the app's current domains; the release's stored names keep those of the day it was made.
  const domains = release.proxyHost && release.proxyHost !== probedWith.proxy ? ` Probed with the app's current proxy domain ${probedWith.proxy}; the release's stored files keep ${release.proxyHost}.` : "";
  return {
    ok: true,
    message: `${changes.length ? `Re-probed: ${changes.length} image${changes.length === 1 ? "" : "s"} changed.` : "Re-probed: nothing changed since the last probe."}${domains}`,
    data: changes,
  };
});

export const archiveReleaseAction = teamAction("app:manage", onRelease.extend({ archive: z.enum(["1", "0"]) }), async ({ app, version, archive }, ctx) => {
  if (archive === "1") await archiveRelease(ctx, app, version);
  else await unarchiveRelease(ctx, app, version);
  revalidatePath(releasePath(ctx.team.slug, app, version));
  revalidatePath(`/t/${ctx.team.slug}/apps/${app}`);
  return {
    ok: true,
    message: archive === "1" ? `Release ${version} archived: its images are no longer pullable unless another release or a pattern allows them.` : `Release ${version} is active again.`,
  };
});

export const savePatternsAction = teamAction("app:manage", inApp.extend({ patterns: z.string().max(100_000).optional() }), async ({ app, patterns }, ctx) => {
  const saved = await setExtraPatterns(ctx, app, lines(patterns));
  revalidatePath(`/t/${ctx.team.slug}/apps/${app}`);
  return { ok: true, message: saved.length ? `Saved ${saved.length} pattern${saved.length === 1 ? "" : "s"}.` : "No extra patterns: licenses reach only the releases' images." };
});

/** "2026-12-01" → releases created before that day starts (UTC). */
const dayOrEmpty = z
  .string()
  .trim()
  .optional()
  .transform((v, c) => {
    if (!v) return null;
    const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00.000Z` : v);
    if (Number.isNaN(d.getTime())) {
      c.addIssue({ code: "custom", message: "Enter a date (YYYY-MM-DD)." });
      return z.NEVER;
    }
    return d;
  });

export const setPinAction = teamAction(
  "customer:manage",
  inApp.extend({
    customerId: z.string().min(1),
    licenseRowId: z.string().min(1),
    maxVersion: z.string().trim().max(200).optional(),
    releasedBefore: dayOrEmpty,
  }),
  async ({ app, customerId, licenseRowId, maxVersion, releasedBefore }, ctx) => {
    await setLicensePin(ctx, licenseRowId, { maxVersion: maxVersion || null, releasedBefore });
    revalidatePath(`/t/${ctx.team.slug}/apps/${app}/customers/${customerId}`);
    const parts = [maxVersion ? `releases up to ${maxVersion}` : null, releasedBefore ? `released before ${releasedBefore.toISOString().slice(0, 10)}` : null].filter(Boolean);
    return { ok: true, message: parts.length ? `Pinned to ${parts.join(" and ")}. It applies to the next pull.` : "Pin removed: the license reaches every active release." };
  },
);
