/**
 * Test-only: records blobs of Gantry's own registry for an app's team, as the
 * registry counts them for the quota (RegistryBlob), so a spec can show usage
 * near or at the quota without pushing gigabytes. Run through tsx with the e2e
 * server's environment (see e2e/registry-usage.spec.ts).
 * Usage: seed-registry-usage.ts <app slug> '<JSON array of { digest, size }>'
 */
import { db } from "@/lib/db";

async function main() {
  const [slug, json] = process.argv.slice(2);
  if (!slug || !json) throw new Error("usage: seed-registry-usage.ts <app slug> '<JSON array of { digest, size }>'");
  const app = await db.app.findUnique({ where: { slug }, select: { teamId: true } });
  if (!app) throw new Error(`no app ${slug}`);
  for (const b of JSON.parse(json) as { digest: string; size: number }[]) {
    await db.registryBlob.create({ data: { teamId: app.teamId, digest: b.digest, size: BigInt(b.size) } });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
