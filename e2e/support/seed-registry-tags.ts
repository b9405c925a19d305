/**
 * Test-only: records pushes of Gantry's own registry for an app, as the
 * registry does (a manifest per digest and the tag), so a spec can show the
 * Registry tab without pushing real images. Run through tsx with the e2e
 * server's environment (see seedRegistryTags in e2e/registry-tab.spec.ts).
 * Usage: seed-registry-tags.ts <app slug> '<JSON array of pushes>'
 * where a push is { repository, tag, digest, totalSize, pushedBy, pushedAt?, mediaType? }.
 */
import { db } from "@/lib/db";

interface Push {
  repository: string;
  tag: string;
  digest: string;
  totalSize: number;
  pushedBy: string;
  pushedAt?: string;
  mediaType?: string;
}

async function main() {
  const [slug, json] = process.argv.slice(2);
  if (!slug || !json) throw new Error("usage: seed-registry-tags.ts <app slug> '<JSON array of pushes>'");
  const app = await db.app.findUnique({ where: { slug }, select: { id: true, teamId: true } });
  if (!app) throw new Error(`no app ${slug}`);
  for (const p of JSON.parse(json) as Push[]) {
    const pushedAt = p.pushedAt ? new Date(p.pushedAt) : new Date();
    const key = { appId: app.id, repository: p.repository };
    await db.registryManifest.upsert({
      where: { appId_repository_digest: { ...key, digest: p.digest } },
      create: {
        ...key,
        teamId: app.teamId,
        digest: p.digest,
        mediaType: p.mediaType ?? "application/vnd.oci.image.manifest.v1+json",
        size: 1024,
        totalSize: BigInt(p.totalSize),
        pushedBy: p.pushedBy,
        pushedAt,
      },
      update: {},
    });
    await db.registryTag.create({ data: { ...key, teamId: app.teamId, tag: p.tag, digest: p.digest, pushedBy: p.pushedBy, pushedAt } });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
