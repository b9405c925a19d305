import crypto from "node:crypto";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { db } from "@/lib/db";
import { StaticKekProvider } from "@/lib/crypto/kek";
import { setKekProviderForTests } from "@/lib/crypto/provider";
import { rotateKek } from "@/lib/secrets/rotate-kek";
import { loadSecret, storeSecret } from "@/lib/secrets/store";

// Concurrent rotations: every row is re-wrapped by exactly one of them (the
// compare-and-swap on kekId + wrappedDek); without it, several rotations
// overwrite each other's wrap of the same row and all count it.
const N = 20;
afterEach(() => setKekProviderForTests(undefined));

describe("KEK rotation under concurrency", () => {
  it(`${N} concurrent rotations re-wrap each secret once, and every secret still decrypts`, async () => {
    const oldKey = crypto.randomBytes(32);
    const oldId = `kek-old-${Date.now()}`;
    const newId = `kek-new-${Date.now()}`;
    setKekProviderForTests(new StaticKekProvider({ [oldId]: oldKey }, oldId));
    const teamId = `kek-race-${Date.now()}`;
    const team = await db.team.create({ data: { id: teamId, name: "KEK race", slug: teamId } });
    // Its secrets end up under a key no other test knows: take them away (cascade) so later rotations are not failing on them.
    onTestFinished(() => db.team.delete({ where: { id: teamId } }).then(() => undefined));
    const secrets = Array.from({ length: 30 }, (_, i) => ({ resourceId: `r${i}`, value: `secret-${i}-${crypto.randomUUID()}` }));
    for (const s of secrets) await storeSecret(db, { teamId: team.id, resourceId: s.resourceId, purpose: "race" }, s.value);

    // Other tests' secrets (under other KEKs) are not ours to rotate: this provider cannot unwrap them.
    const next = new StaticKekProvider({ [oldId]: oldKey, [newId]: crypto.randomBytes(32) }, newId);
    setKekProviderForTests(next);
    const ours = { teamId: team.id, kekId: oldId };
    expect(await db.encryptedSecret.count({ where: ours })).toBe(secrets.length);
    const reports = await Promise.all(Array.from({ length: N }, () => rotateKek({ kek: next, batchSize: 7 })));

    const ourFailures = reports.flatMap((r) => r.failed).filter((f) => f.kekId === oldId);
    expect(ourFailures).toEqual([]);
    // Rows of other tests that this provider cannot unwrap are reported failed by each run and not counted.
    expect(reports.reduce((sum, r) => sum + r.rewrapped, 0)).toBe(secrets.length);
    expect(await db.encryptedSecret.count({ where: { teamId: team.id, kekId: newId } })).toBe(secrets.length);
    for (const s of secrets) expect(await loadSecret({ teamId: team.id, resourceId: s.resourceId, purpose: "race" })).toBe(s.value);
  });
});
