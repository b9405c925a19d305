import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { DecryptError, open, rewrap, seal } from "@/lib/crypto/envelope";
import { KekError, parseKekList, StaticKekProvider } from "@/lib/crypto/kek";

const k1 = crypto.randomBytes(32);
const k2 = crypto.randomBytes(32);
const kek = new StaticKekProvider({ k1 }, "k1");
const binding = { teamId: "team_1", resourceId: "reg_1", purpose: "registry.password" };

describe("envelope encryption", () => {
  it("round-trips, with a fresh data key and IV per secret and no plaintext in the sealed form", async () => {
    const a = await seal("s3cret-password", binding, kek);
    const b = await seal("s3cret-password", binding, kek);
    expect((await open(a, binding, kek)).toString()).toBe("s3cret-password");
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrappedDek.equals(b.wrappedDek)).toBe(false);
    expect(a.iv).toHaveLength(12);
    expect(a.authTag).toHaveLength(16);
    expect(a.kekId).toBe("k1");
    const all = Buffer.concat([a.ciphertext, a.iv, a.authTag, a.wrappedDek]).toString("latin1");
    expect(all).not.toContain("s3cret-password");
  });

  it("fails loudly on a flipped bit anywhere", async () => {
    const s = await seal("payload", binding, kek);
    for (const field of ["ciphertext", "iv", "authTag", "wrappedDek"] as const) {
      const copy = { ...s, [field]: Buffer.from(s[field]) };
      copy[field][0] = (copy[field][0] ?? 0) ^ 1;
      await expect(open(copy, binding, kek)).rejects.toThrow(/tampered|wrong key/);
    }
  });

  it("refuses a ciphertext copied to another row, team or purpose", async () => {
    const s = await seal("payload", binding, kek);
    await expect(open(s, { ...binding, resourceId: "reg_2" }, kek)).rejects.toBeInstanceOf(DecryptError);
    await expect(open(s, { ...binding, teamId: "team_2" }, kek)).rejects.toBeInstanceOf(DecryptError);
    await expect(open(s, { ...binding, purpose: "license.signing-key" }, kek)).rejects.toBeInstanceOf(DecryptError);
  });

  it("re-wraps a data key under a new KEK without touching the payload", async () => {
    const both = new StaticKekProvider({ k1, k2 }, "k2");
    const s = await seal("payload", binding, kek);
    const r = await rewrap(s, both);
    expect(r.kekId).toBe("k2");
    expect(r.ciphertext.equals(s.ciphertext)).toBe(true);
    expect((await open(r, binding, new StaticKekProvider({ k2 }, "k2"))).toString()).toBe("payload");
    await expect(open(r, binding, kek)).rejects.toBeInstanceOf(KekError);
  });
});

describe("KEK configuration", () => {
  it("parses id:base64 lists and picks the current key", () => {
    const list = `a:${k1.toString("base64")}, b:${k2.toString("base64")}`;
    expect(parseKekList(list, "b").current).toBe("b");
    expect(parseKekList(`only:${k1.toString("base64")}`, undefined).current).toBe("only");
    expect(() => parseKekList(list, undefined)).toThrow(/GANTRY_KEK_CURRENT/);
    expect(() => parseKekList(list, "c")).toThrow(/not in GANTRY_KEKS/);
    expect(() => parseKekList("a:c2hvcnQ=", undefined)).toThrow(/32 bytes/);
    expect(() => parseKekList("nocolon", undefined)).toThrow(/id:base64key/);
  });
});
