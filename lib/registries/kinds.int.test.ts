import crypto from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { createRegistry, getRegistry, listRegistries, PASSWORD_PURPOSE, updateRegistry } from "@/lib/registries/registries";
import { loadSecret } from "@/lib/secrets/store";
import { databaseBytes } from "@/lib/testing/database-bytes";
import { teamContextForUser } from "@/lib/teams/access";

/**
 * Registry kinds at the storage layer: each kind's fields are checked with
 * words per field, its secret is sealed like a password and never returned,
 * and the secret must come again when the endpoint moves or the kind changes.
 */
let n = 0;
async function team() {
  const { user, team } = await signUp({ email: `kinds-${Date.now()}-${n++}@example.com`, password: "correct horse battery", teamName: "Kinds" });
  return teamContextForUser(user, team.slug, "registry:manage");
}

/** The field errors a refusal carries: the schema's (ZodError, what the API answers 422 with) or resolveKind's (AppError). */
async function fieldErrors(p: Promise<unknown>): Promise<Record<string, string[]>> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (e instanceof ZodError) {
    const fields: Record<string, string[]> = {};
    for (const issue of e.issues) (fields[String(issue.path[0])] ??= []).push(issue.message);
    return fields;
  }
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe("VALIDATION");
  return ((e as AppError).fields ?? {}) as Record<string, string[]>;
}


const ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

function serviceAccountKey(email = "puller@acme-prod.iam.gserviceaccount.com") {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return JSON.stringify({
    type: "service_account",
    project_id: "acme-prod",
    private_key_id: crypto.randomBytes(20).toString("hex"),
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: email,
    client_id: "1234567890",
    token_uri: "https://oauth2.googleapis.com/token",
  });
}

afterEach(() => {
  delete process.env.GANTRY_CLOUD_AMBIENT_CREDENTIALS;
  resetEnvForTests();
});

describe("registry kinds", () => {
  it("ecr: the region comes from the endpoint, the secret access key is sealed and never returned", async () => {
    const ctx = await team();
    const secret = `SECRET-${crypto.randomUUID()}`;
    const reg = await createRegistry(ctx, { name: "ECR", endpoint: ECR_HOST, kind: "ecr", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret });
    expect(reg).toMatchObject({ kind: "ecr", username: "AKIAIOSFODNN7EXAMPLE", cloud: { region: "eu-west-1", ambient: false } });
    expect(JSON.stringify(await listRegistries(ctx.team.id))).not.toContain(secret);
    expect(JSON.stringify(await getRegistry(ctx.team.id, reg.id))).not.toContain(secret);
    expect(await loadSecret({ teamId: ctx.team.id, resourceId: reg.id, purpose: PASSWORD_PURPOSE })).toBe(secret);
    const bytes = databaseBytes();
    expect(bytes.includes(Buffer.from(ctx.team.id))).toBe(true);
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    // A role to assume, added later without the secret: kept.
    const updated = await updateRegistry(ctx, reg.id, { roleArn: "arn:aws:iam::123456789012:role/gantry-pull", externalId: "acme-7" });
    expect(updated.cloud).toMatchObject({ region: "eu-west-1", roleArn: "arn:aws:iam::123456789012:role/gantry-pull", externalId: "acme-7" });
    expect(await loadSecret({ teamId: ctx.team.id, resourceId: reg.id, purpose: PASSWORD_PURPOSE })).toBe(secret);
    const events = await db.activityEvent.findMany({ where: { teamId: ctx.team.id } });
    expect(JSON.stringify(events)).not.toContain(secret);
  });

  it("ecr: every field is checked, with words per field", async () => {
    const ctx = await team();
    const fields = await fieldErrors(
      createRegistry(ctx, { name: "Bad", endpoint: "registry.example.com", kind: "ecr", accessKeyId: "not a key", secretAccessKey: "s", roleArn: "arn:aws:iam::1:user/x", externalId: "e" }),
    );
    expect(fields.region?.[0]).toMatch(/cannot be read from this endpoint/);
    expect(fields.accessKeyId?.[0]).toMatch(/16 or more capital letters/);
    // A missing secret is refused by the schema, with the other missing fields (the API answers 422 with all of them).
    await expect(createRegistry(ctx, { name: "Bad", endpoint: ECR_HOST, kind: "ecr" })).rejects.toThrow(/Enter the access key ID[\s\S]*Enter the secret access key/);
    expect(fields.roleArn?.[0]).toMatch(/arn:aws:iam::123456789012:role/);
    expect(fields.externalId?.[0]).toMatch(/2 to 1224/);
    // A region that tries to be a host is refused.
    expect((await fieldErrors(createRegistry(ctx, { name: "Bad", endpoint: ECR_HOST, kind: "ecr", region: "evil.example.com/", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "s" }))).region).toBeDefined();
  });

  it("gar: the key is checked and sealed whole; the account e-mail is what the page shows", async () => {
    const ctx = await team();
    const key = serviceAccountKey();
    const reg = await createRegistry(ctx, { name: "GAR", endpoint: "europe-docker.pkg.dev", kind: "gar", serviceAccountKey: key });
    expect(reg).toMatchObject({ kind: "gar", username: "puller@acme-prod.iam.gserviceaccount.com", cloud: { projectId: "acme-prod" } });
    expect(JSON.stringify(reg)).not.toContain("PRIVATE KEY");
    expect(await loadSecret({ teamId: ctx.team.id, resourceId: reg.id, purpose: PASSWORD_PURPOSE })).toBe(key);
    const pem = (JSON.parse(key) as { private_key: string }).private_key.split("\n")[3] ?? "";
    expect(pem.length).toBeGreaterThan(40);
    expect(databaseBytes().includes(Buffer.from(pem))).toBe(false);
    // The API may send the key as an object.
    const asObject = await createRegistry(ctx, { name: "GAR2", endpoint: "us-docker.pkg.dev", kind: "gar", serviceAccountKey: JSON.parse(serviceAccountKey("other@acme-prod.iam.gserviceaccount.com")) as Record<string, unknown> });
    expect(asObject.username).toBe("other@acme-prod.iam.gserviceaccount.com");
    expect((await fieldErrors(createRegistry(ctx, { name: "Bad", endpoint: "gcr.io", kind: "gar", serviceAccountKey: "{not json" }))).serviceAccountKey?.[0]).toMatch(/not JSON/);
    expect((await fieldErrors(createRegistry(ctx, { name: "Bad", endpoint: "gcr.io", kind: "gar", serviceAccountKey: JSON.stringify({ type: "authorized_user" }) }))).serviceAccountKey?.[0]).toMatch(/"service_account"/);
    // Over the size bound: refused by the schema (the API answers 422 with the words).
    await expect(createRegistry(ctx, { name: "Bad", endpoint: "gcr.io", kind: "gar", serviceAccountKey: "x".repeat(17 * 1024) })).rejects.toThrow(/too long/);
  });

  it("acr: tenant and client are checked; the client ID is the identity shown", async () => {
    const ctx = await team();
    const reg = await createRegistry(ctx, {
      name: "ACR",
      endpoint: "acme.azurecr.io",
      kind: "acr",
      tenantId: "contoso.onmicrosoft.com",
      clientId: "11111111-2222-3333-4444-555555555555",
      clientSecret: "client-secret-value",
    });
    expect(reg).toMatchObject({ kind: "acr", username: "11111111-2222-3333-4444-555555555555", cloud: { tenantId: "contoso.onmicrosoft.com" } });
    const fields = await fieldErrors(createRegistry(ctx, { name: "Bad", endpoint: "acme.azurecr.io", kind: "acr", tenantId: "../../evil", clientId: "nope", clientSecret: "s" }));
    expect(Object.keys(fields).sort()).toEqual(["clientId", "tenantId"]);
    await expect(createRegistry(ctx, { name: "Bad", endpoint: "acme.azurecr.io", kind: "acr", tenantId: "contoso.onmicrosoft.com" })).rejects.toThrow(/application \(client\) ID[\s\S]*client secret/);
  });

  it("the secret must come again when the endpoint moves or the kind changes (422), and is kept otherwise", async () => {
    const ctx = await team();
    const reg = await createRegistry(ctx, { name: "ECR", endpoint: ECR_HOST, kind: "ecr", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "s3cret" });
    const moved = await fieldErrors(updateRegistry(ctx, reg.id, { endpoint: "attacker.example.com", region: "eu-west-1" }));
    expect(moved.secretAccessKey?.[0]).toMatch(/endpoint's scheme, host or port changed/);
    expect((await getRegistry(ctx.team.id, reg.id)).endpoint).toBe(`https://${ECR_HOST}`);
    const kindChange = await fieldErrors(updateRegistry(ctx, reg.id, { kind: "basic", username: "AWS" }));
    expect(kindChange.password?.[0]).toMatch(/kind changed/);
    const toAcr = await fieldErrors(updateRegistry(ctx, reg.id, { kind: "acr", tenantId: "contoso.onmicrosoft.com", clientId: "11111111-2222-3333-4444-555555555555" }));
    expect(toAcr.clientSecret?.[0]).toMatch(/kind changed/);
    // Moved with the secret: accepted. Renamed: the secret stays.
    await updateRegistry(ctx, reg.id, { endpoint: "210987654321.dkr.ecr.us-east-1.amazonaws.com", region: "us-east-1", secretAccessKey: "n3w" });
    await updateRegistry(ctx, reg.id, { name: "Renamed" });
    expect(await loadSecret({ teamId: ctx.team.id, resourceId: reg.id, purpose: PASSWORD_PURPOSE })).toBe("n3w");
    // A basic registry changed to ECR with its fields: the old password is replaced.
    const basic = await createRegistry(ctx, { name: "Basic", endpoint: "quay.io", username: "robot", password: "old-pw" });
    const converted = await updateRegistry(ctx, basic.id, { kind: "ecr", region: "us-east-1", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "aws-secret" });
    expect(converted).toMatchObject({ kind: "ecr", username: "AKIAIOSFODNN7EXAMPLE" });
    expect(await loadSecret({ teamId: ctx.team.id, resourceId: basic.id, purpose: PASSWORD_PURPOSE })).toBe("aws-secret");
  });

  it("ambient credentials only when the operator allows them; choosing them drops the stored secret", async () => {
    const ctx = await team();
    const off = await fieldErrors(createRegistry(ctx, { name: "Ambient", endpoint: ECR_HOST, kind: "ecr", ambient: true }));
    expect(off.ambient?.[0]).toMatch(/GANTRY_CLOUD_AMBIENT_CREDENTIALS=on/);
    process.env.GANTRY_CLOUD_AMBIENT_CREDENTIALS = "on";
    resetEnvForTests();
    const reg = await createRegistry(ctx, { name: "Keys", endpoint: ECR_HOST, kind: "ecr", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "s" });
    const ambient = await updateRegistry(ctx, reg.id, { ambient: "on" });
    expect(ambient).toMatchObject({ username: "(ambient credentials)", cloud: { ambient: true } });
    expect(await db.encryptedSecret.count({ where: { resourceId: reg.id } })).toBe(0);
    // Back to keys: the secret is needed again.
    expect((await fieldErrors(updateRegistry(ctx, reg.id, { ambient: false, accessKeyId: "AKIAIOSFODNN7EXAMPLE" }))).secretAccessKey).toBeDefined();
  });
});
