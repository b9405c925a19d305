/**
 * Test-only time travel for the e2e suite: moves an API token's expiry into the
 * past, so a spec can check that an expired token is refused without waiting a
 * day. Run through tsx with the e2e server's environment (see fixtures.ts).
 * Usage: backdate-token-expiry.ts <team slug> <token name>
 */
import { db } from "@/lib/db";

async function main() {
  const [teamSlug, name] = process.argv.slice(2);
  if (!teamSlug || !name) throw new Error("usage: backdate-token-expiry.ts <team slug> <token name>");
  const { count } = await db.apiToken.updateMany({
    where: { name, team: { slug: teamSlug }, expiresAt: { not: null } },
    data: { expiresAt: new Date(Date.now() - 60_000) },
  });
  if (count !== 1) throw new Error(`expected one token "${name}" with an expiry in ${teamSlug}, found ${count}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
