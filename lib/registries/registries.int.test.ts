import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { isPostgresUrl } from "@/lib/db-provider";
import { StaticKekProvider } from "@/lib/crypto/kek";
import { kekProvider, setKekProviderForTests } from "@/lib/crypto/provider";
import { signUp } from "@/lib/auth/sign-up";
import { createRegistry, deleteRegistry, getRegistry, listRegistries, PASSWORD_AGAIN_MESSAGE, PASSWORD_PURPOSE, registryCredentials, updateRegistry } from "@/lib/registries/registries";
import { testConnection } from "@/lib/registries/test-connection";
import { rotateKek } from "@/lib/secrets/rotate-kek";
import { loadSecret } from "@/lib/secrets/store";
import { teamContextForUser } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

let basic: RunningRegistry;
let token: RunningRegistry;
let n = 0;

async function team() {
  const { user, team } = await signUp({ email: `reg-${Date.now()}-${n++}@example.com`, password: "correct horse battery", teamName: "Registries" });
  return teamContextForUser(user, team.slug, "registry:manage");
}

beforeAll(async () => {
  [basic, token] = await Promise.all([
    startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }),
    startRegistry({ auth: "token", users: { bob: "bob-pw" } }),
  ]);
  const img = await buildImage({ files: { "r.txt": "registries\n" } });
  await pushImage(img, { registry: basic, repo: "acme/api", tag: "1.0", creds: "alice:alice-pw" });
  await pushImage(img, { registry: token, repo: "acme/api", tag: "1.0", creds: "bob:bob-pw" });
});
afterAll(async () => {
  await stopAll();
  cleanupImages();
});
afterEach(() => setKekProviderForTests(undefined));

describe("registries", () => {
  it("stores the password encrypted, never returns it, and keeps it on edit unless a new one is given", async () => {
    const ctx = await team();
    const password = `pw-${crypto.randomUUID()}`;
    const reg = await createRegistry(ctx, { name: "Basic", endpoint: basic.url, username: "alice", password });
    expect(reg).not.toHaveProperty("password");
    expect(JSON.stringify(await listRegistries(ctx.team.id))).not.toContain(password);
    expect(reg.pathName).toBe(`127.0.0.1_${basic.port}`);

    await updateRegistry(ctx, reg.id, { name: "Renamed", password: "" });
    expect((await registryCredentials(ctx.team.id, reg)).password).toBe(password);
    await updateRegistry(ctx, reg.id, { password: "new-secret" });
    expect((await registryCredentials(ctx.team.id, reg)).password).toBe("new-secret");

    const actions = (await db.activityEvent.findMany({ where: { teamId: ctx.team.id, resourceType: "registry" } })).map((e) => e.action);
    expect(actions).toEqual(["registry.created", "registry.updated", "registry.updated"]);
    expect(JSON.stringify(await db.activityEvent.findMany({ where: { teamId: ctx.team.id } }))).not.toContain("new-secret");
  });

  it("asks for the password again when the endpoint's scheme, host or port changes, and keeps it otherwise", async () => {
    const ctx = await team();
    const password = `pw-${crypto.randomUUID()}`;
    const reg = await createRegistry(ctx, { name: "Moving", endpoint: "registry.example.com", username: "alice", password, pathName: `moving-${n++}` });
    const rejected = { code: "VALIDATION", message: PASSWORD_AGAIN_MESSAGE, fields: { password: [PASSWORD_AGAIN_MESSAGE] } };
    const unchanged = async () => {
      expect((await registryCredentials(ctx.team.id, reg)).password).toBe(password);
      expect(await getRegistry(ctx.team.id, reg.id)).toMatchObject({ endpoint: "https://registry.example.com", name: "Moving" });
    };

    // Another host, port or scheme without a password (absent or empty): refused, nothing changes.
    for (const endpoint of ["attacker.example", "registry.example.com:8443", "https://registry.example.com:444", "http://127.0.0.1:5000"]) {
      await expect(updateRegistry(ctx, reg.id, { endpoint, name: "Hijacked" })).rejects.toMatchObject(rejected);
      await expect(updateRegistry(ctx, reg.id, { endpoint, password: "" })).rejects.toMatchObject(rejected);
      await unchanged();
    }
    const scheme = await createRegistry(ctx, { name: "Scheme", endpoint: "http://127.0.0.1:5000", username: "u", password: "scheme-pw", pathName: `scheme-${n++}` });
    await expect(updateRegistry(ctx, scheme.id, { endpoint: "https://127.0.0.1:5000" })).rejects.toMatchObject(rejected);
    expect((await getRegistry(ctx.team.id, scheme.id)).endpoint).toBe("http://127.0.0.1:5000");

    // The same origin spelled differently, and name, username and path name changes keep the stored password.
    for (const endpoint of ["registry.example.com", "https://registry.example.com/", "HTTPS://Registry.Example.com:443"]) {
      await updateRegistry(ctx, reg.id, { endpoint });
      expect((await registryCredentials(ctx.team.id, reg)).password).toBe(password);
    }
    await updateRegistry(ctx, reg.id, { endpoint: "registry.example.com", name: "Renamed", username: "bob", pathName: `renamed-${n++}` });
    expect((await registryCredentials(ctx.team.id, reg)).password).toBe(password);

    // With the password in the same request the move is allowed.
    const moved = await updateRegistry(ctx, reg.id, { endpoint: "other.example.com:5000", password: "new-pw" });
    expect(moved).toMatchObject({ endpoint: "https://other.example.com:5000", apiHost: "other.example.com:5000" });
    expect((await registryCredentials(ctx.team.id, reg)).password).toBe("new-pw");
  });

  it("normalizes Docker Hub spellings to one upstream and validates endpoints and path names", async () => {
    const ctx = await team();
    for (const endpoint of ["docker.io", "index.docker.io", "https://registry-1.docker.io"]) {
      const r = await createRegistry(ctx, { name: endpoint, endpoint, username: "u", password: "p", pathName: `hub-${n++}` });
      expect(r).toMatchObject({ endpoint: "https://registry-1.docker.io", apiHost: "registry-1.docker.io", imageHost: "docker.io" });
    }
    await expect(createRegistry(ctx, { name: "x", endpoint: "http://registry.example.com", username: "u", password: "p" })).rejects.toMatchObject({
      code: "VALIDATION",
      fields: { endpoint: [expect.stringMatching(/GANTRY_ALLOWED_PRIVATE_HOSTS/)] },
    });
    await expect(createRegistry(ctx, { name: "x", endpoint: "quay.io/some/path", username: "u", password: "p" })).rejects.toMatchObject({ code: "VALIDATION" });
    await createRegistry(ctx, { name: "q1", endpoint: "quay.io", username: "u", password: "p" });
    await expect(createRegistry(ctx, { name: "q2", endpoint: "quay.io", username: "u2", password: "p" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(createRegistry(ctx, { name: "q3", endpoint: "quay.io", username: "u", password: "p", pathName: "bad name!" })).rejects.toThrow(/Lowercase letters and digits/);
  });

  it("is invisible to another team: get, update, delete and test are NOT_FOUND", async () => {
    const a = await team();
    const b = await team();
    const reg = await createRegistry(a, { name: "A's", endpoint: basic.url, username: "alice", password: "alice-pw" });
    await expect(getRegistry(b.team.id, reg.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(updateRegistry(b, reg.id, { name: "stolen" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deleteRegistry(b, reg.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(testConnection(b, reg.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await getRegistry(a.team.id, reg.id)).name).toBe("A's");
  });

  it("deletes the registry with its secret", async () => {
    const ctx = await team();
    const reg = await createRegistry(ctx, { name: "Gone", endpoint: basic.url, username: "alice", password: "x" });
    await deleteRegistry(ctx, reg.id);
    expect(await db.encryptedSecret.count({ where: { resourceId: reg.id } })).toBe(0);
  });
});

describe("Test connection", () => {
  it("reports working credentials on Basic and token registries, with an image's type and digest", async () => {
    const ctx = await team();
    const b = await createRegistry(ctx, { name: "Basic", endpoint: basic.url, username: "alice", password: "alice-pw" });
    const result = await testConnection(ctx, b.id, "acme/api:1.0");
    expect(result).toMatchObject({ ok: true, outcome: "ok", message: expect.stringMatching(/reachable and the credentials work \(Basic auth\)/) });
    expect(result.manifest).toMatchObject({ status: 200, mediaType: "application/vnd.oci.image.manifest.v1+json", digest: expect.stringMatching(/^sha256:/) });

    const t = await createRegistry(ctx, { name: "Token", endpoint: token.url, username: "bob", password: "bob-pw" });
    // the token realm listens on the same host name: inside the trust boundary
    expect(await testConnection(ctx, t.id, `${token.host}/acme/api:1.0`)).toMatchObject({ ok: true, message: expect.stringMatching(/token auth/), manifest: { status: 200 } });
    expect(await testConnection(ctx, t.id, "acme/missing:1.0")).toMatchObject({ ok: true, manifest: { status: 404, message: expect.stringMatching(/not found/) } });
    expect((await getRegistry(ctx.team.id, t.id)).lastTestOutcome).toBe("ok");
  });

  it("reports rejected credentials, a dead port and a blocked address in plain words", async () => {
    const ctx = await team();
    const bad = await createRegistry(ctx, { name: "Bad", endpoint: basic.url, username: "alice", password: "wrong" });
    expect(await testConnection(ctx, bad.id)).toMatchObject({ ok: false, outcome: "credentials_rejected", message: expect.stringMatching(/reachable, but it rejected the credentials/) });
    const badToken = await createRegistry(ctx, { name: "Bad token", endpoint: token.url, username: "bob", password: "wrong" });
    expect(await testConnection(ctx, badToken.id)).toMatchObject({ outcome: "credentials_rejected" });

    const dead = await createRegistry(ctx, { name: "Dead", endpoint: "http://127.0.0.1:1", username: "u", password: "p" });
    expect(await testConnection(ctx, dead.id)).toMatchObject({ ok: false, outcome: "unreachable", failure: "tcp", message: expect.stringMatching(/unreachable.*TCP/) });

    const blocked = await createRegistry(ctx, { name: "Metadata", endpoint: "https://169.254.169.254", username: "u", password: "p" });
    expect(await testConnection(ctx, blocked.id)).toMatchObject({ ok: false, outcome: "blocked", message: expect.stringMatching(/SSRF guard/) });
    const stored = await getRegistry(ctx.team.id, blocked.id);
    expect(stored).toMatchObject({ lastTestOutcome: "blocked", lastTestedAt: expect.any(Date) });
  });
});

describe("secrets at rest", () => {
  // Everything the database holds, as bytes: SQLite's file (and WAL), or a data-only pg_dump of PostgreSQL.
  it("keeps the plaintext out of the database", async () => {
    const ctx = await team();
    const unique = `UNIQUE-${crypto.randomUUID()}-PASSWORD`;
    await createRegistry(ctx, { name: "Grep", endpoint: basic.url, username: "alice", password: unique });
    let bytes: Buffer;
    if (isPostgresUrl(env().databaseUrl)) {
      bytes = execFileSync("pg_dump", ["--data-only", "--no-owner", env().databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
    } else {
      // WAL mode: the newest rows are in the -wal file until a checkpoint.
      const file = env().databaseUrl.replace(/^file:/, "");
      bytes = Buffer.concat([fs.readFileSync(file), fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
    }
    expect(bytes.includes(Buffer.from(ctx.team.id))).toBe(true); // what was read does hold this test's rows
    expect(bytes.includes(Buffer.from(unique))).toBe(false);
    expect(bytes.includes(Buffer.from(unique, "utf16le"))).toBe(false);
  });

  it("refuses a ciphertext copied to another registry's row", async () => {
    const ctx = await team();
    const a = await createRegistry(ctx, { name: "A", endpoint: basic.url, username: "alice", password: "secret-a" });
    const b = await createRegistry(ctx, { name: "B", endpoint: basic.url, username: "alice", password: "secret-b", pathName: "other" });
    const rowA = await db.encryptedSecret.findFirstOrThrow({ where: { resourceId: a.id }, omit: { ciphertext: false, iv: false, authTag: false, wrappedDek: false } });
    await db.encryptedSecret.update({
      where: { teamId_resourceId_purpose: { teamId: ctx.team.id, resourceId: b.id, purpose: PASSWORD_PURPOSE } },
      data: { ciphertext: rowA.ciphertext, iv: rowA.iv, authTag: rowA.authTag, wrappedDek: rowA.wrappedDek, kekId: rowA.kekId },
    });
    await expect(loadSecret({ teamId: ctx.team.id, resourceId: b.id, purpose: PASSWORD_PURPOSE })).rejects.toThrow(/another row|tampered/);
    expect(await loadSecret({ teamId: ctx.team.id, resourceId: a.id, purpose: PASSWORD_PURPOSE })).toBe("secret-a");
  });

  it("rotates every data key to a new KEK with zero loss, and is safe to run twice", async () => {
    const ctx = await team();
    const passwords = Array.from({ length: 5 }, (_, i) => `rotate-${i}-${crypto.randomUUID()}`);
    const regs = [];
    for (const [i, password] of passwords.entries()) {
      regs.push(await createRegistry(ctx, { name: `R${i}`, endpoint: basic.url, username: "alice", password, pathName: `rot-${i}` }));
    }
    const old = kekProvider();
    const oldId = old.currentKekId;
    const oldKeyFile = fs.readFileSync(`${env().dataDir}/kek`, "utf8").trim();
    const oldKey = Buffer.from(oldKeyFile.slice(oldKeyFile.indexOf(":") + 1), "base64");
    const nextKey = crypto.randomBytes(32);
    const next = new StaticKekProvider({ [oldId]: oldKey, "kek-next": nextKey }, "kek-next");
    setKekProviderForTests(next);

    const total = await db.encryptedSecret.count();
    const first = await rotateKek({ batchSize: 2 });
    expect(first.failed).toEqual([]);
    expect(first.rewrapped).toBe(total);
    expect(await db.encryptedSecret.count({ where: { kekId: { not: "kek-next" } } })).toBe(0);
    const second = await rotateKek();
    expect(second).toMatchObject({ rewrapped: 0, alreadyCurrent: total, failed: [] });

    // Every secret still decrypts, now with the new KEK alone.
    setKekProviderForTests(new StaticKekProvider({ "kek-next": nextKey }, "kek-next"));
    for (const [i, r] of regs.entries()) expect((await registryCredentials(ctx.team.id, r)).password).toBe(passwords[i]);
  });
});

