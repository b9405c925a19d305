import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEcrStandIn, type EcrStandIn } from "./ecr-standin";

/**
 * The stand-in checks what AWS checks: requests signed here by hand (not by
 * Gantry) with a wrong key, scope, body, date or session token are refused with
 * AWS's error shapes, and the SDK reads those as its named exceptions.
 */

const KEY = { accessKeyId: "AKIASTANDINTEST0001", secretAccessKey: "StandInSecretKeyForSigV4Checks/000000001" };
const ROLE = "arn:aws:iam::123456789012:role/standin";
const GET_TOKEN = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
let standIn: EcrStandIn;

interface Signed {
  service?: string;
  region?: string;
  key?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  date?: Date;
  /** Send this body instead of the one signed. */
  tamper?: string;
  unsigned?: boolean;
}

async function call(api: "ecr" | "sts", body: string, opts: Signed = {}): Promise<{ status: number; text: string }> {
  const url = new URL(standIn.url);
  const headers: Record<string, string> = {
    host: url.host,
    "content-type": api === "ecr" ? "application/x-amz-json-1.1" : "application/x-www-form-urlencoded",
    ...(api === "ecr" ? { "x-amz-target": GET_TOKEN } : {}),
  };
  const request = { method: "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: "/", query: {}, headers, body };
  const signer = new SignatureV4({ credentials: opts.key ?? KEY, region: opts.region ?? standIn.region, service: opts.service ?? api, sha256: Sha256 });
  const signed = opts.unsigned ? request : await signer.sign(request, { signingDate: opts.date ?? new Date() });
  // fetch sets Host itself (the same value that was signed).
  const sendable = Object.fromEntries(Object.entries(signed.headers as Record<string, string>).filter(([name]) => name !== "host"));
  const res = await fetch(standIn.url, { method: "POST", headers: sendable, body: opts.tamper ?? body });
  return { status: res.status, text: await res.text() };
}

const assumeRoleBody = (sessionName = "standin-test") => new URLSearchParams({ Action: "AssumeRole", Version: "2011-06-15", RoleArn: ROLE, RoleSessionName: sessionName, DurationSeconds: "3600" }).toString();
const MISMATCH = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

beforeAll(async () => {
  standIn = await startEcrStandIn({ users: [KEY], roles: [{ arn: ROLE, trustedAccessKeyIds: [KEY.accessKeyId] }], tokenLifetimeSeconds: 2, sessionLifetimeSeconds: 900 });
});

afterAll(async () => {
  await standIn.stop();
});

describe("ECR stand-in", () => {
  it("answers a correctly signed GetAuthorizationToken like ECR; the password is valid for its lifetime only", async () => {
    const { status, text } = await call("ecr", "{}");
    expect(status).toBe(200);
    const data = (JSON.parse(text) as { authorizationData: { authorizationToken: string; expiresAt: unknown; proxyEndpoint: string }[] }).authorizationData[0]!;
    // JSON 1.1 timestamps are epoch seconds.
    expect(typeof data.expiresAt).toBe("number");
    expect(Number(data.expiresAt) * 1000).toBeGreaterThan(Date.now() + 1000);
    expect(data.proxyEndpoint).toBe("https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    const [user, password = ""] = Buffer.from(data.authorizationToken, "base64").toString().split(/:(.*)/s);
    expect(user).toBe("AWS");
    expect(standIn.isValid("AWS", password)).toBe(true);
    expect(standIn.isValid("aws", password)).toBe(false);
    await new Promise((r) => setTimeout(r, 2100));
    expect(standIn.isValid("AWS", password)).toBe(false);
  });

  it("refuses a wrong secret, a changed body, another service's or region's scope, a stale date, an unknown key, no signature", async () => {
    const refused = async (api: "ecr" | "sts", opts: Signed) => {
      const before = standIn.calls();
      const res = await call(api, api === "ecr" ? "{}" : assumeRoleBody(), opts);
      expect(standIn.calls().refused).toBe(before.refused + 1);
      expect(standIn.calls().getAuthorizationToken).toBe(before.getAuthorizationToken);
      return res;
    };
    expect(await refused("ecr", { key: { ...KEY, secretAccessKey: `${KEY.secretAccessKey.slice(0, -1)}2` } })).toEqual({
      status: 400,
      text: JSON.stringify({ __type: "InvalidSignatureException", message: MISMATCH }),
    });
    expect((await refused("ecr", { tamper: '{"registryIds":["210987654321"]}' })).text).toContain("InvalidSignatureException");
    expect((await refused("ecr", { service: "sts" })).text).toContain("Credential should be scoped to correct service: 'ecr'");
    expect((await refused("ecr", { region: "eu-west-1" })).text).toContain("Credential should be scoped to a valid region");
    expect((await refused("ecr", { date: new Date(Date.now() - 20 * 60_000) })).text).toContain("Signature expired");
    expect(await refused("ecr", { key: { accessKeyId: "AKIANOBODYKNOWS0001", secretAccessKey: KEY.secretAccessKey } })).toEqual({
      status: 400,
      text: JSON.stringify({ __type: "UnrecognizedClientException", message: "The security token included in the request is invalid." }),
    });
    expect((await refused("ecr", { unsigned: true })).text).toContain("MissingAuthenticationTokenException");
    // STS, in its query protocol's XML.
    const sts = await refused("sts", { key: { ...KEY, secretAccessKey: "wrong" } });
    expect(sts.status).toBe(403);
    expect(sts.text).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect((await refused("sts", { service: "ecr" })).text).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("hands out role sessions whose key works only with its session token, and only until it expires", async () => {
    const res = await call("sts", assumeRoleBody());
    expect(res.status).toBe(200);
    const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(res.text)?.[1] ?? "";
    const session = { accessKeyId: field("AccessKeyId"), secretAccessKey: field("SecretAccessKey"), sessionToken: field("SessionToken") };
    expect(session.accessKeyId).toMatch(/^ASIA/);
    expect(new Date(field("Expiration")).getTime()).toBeLessThanOrEqual(Date.now() + 900_000);
    expect((await call("ecr", "{}", { key: session })).status).toBe(200);
    const withoutToken = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey };
    expect((await call("ecr", "{}", { key: withoutToken })).text).toContain("UnrecognizedClientException");
    expect((await call("ecr", "{}", { key: { ...session, sessionToken: `${session.sessionToken}x` } })).text).toContain("UnrecognizedClientException");
  });

  it("expires role sessions, and tokens minted with one die with it", async () => {
    const short = await startEcrStandIn({ users: [KEY], roles: [{ arn: ROLE, trustedAccessKeyIds: [KEY.accessKeyId] }], sessionLifetimeSeconds: 1 });
    try {
      const sts = new STSClient({ region: "us-east-1", endpoint: short.url, credentials: KEY });
      const out = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "short", DurationSeconds: 3600 }));
      const c = out.Credentials!;
      const ecr = new ECRClient({ region: "us-east-1", endpoint: short.url, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
      const data = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
      // Reported as ECR documents it (12 h), though the password dies with the session.
      expect(data.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 11 * 3600_000);
      const password = Buffer.from(data.authorizationToken!, "base64").toString().slice(4);
      expect(short.isValid("AWS", password)).toBe(true);
      await new Promise((r) => setTimeout(r, Math.max(0, c.Expiration!.getTime() - Date.now()) + 50));
      expect(short.isValid("AWS", password)).toBe(false);
      await expect(ecr.send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({ name: "ExpiredTokenException" });
    } finally {
      await short.stop();
    }
  });

  it("is read by the AWS SDK as ECR's and STS's named exceptions", async () => {
    const wrong = { ...KEY, secretAccessKey: "not-the-secret" };
    const ecr = new ECRClient({ region: "us-east-1", endpoint: standIn.url, credentials: wrong, maxAttempts: 1 });
    await expect(ecr.send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({ name: "InvalidSignatureException", message: MISMATCH, $metadata: { httpStatusCode: 400 } });
    const unknown = new ECRClient({ region: "us-east-1", endpoint: standIn.url, credentials: { accessKeyId: "AKIANOBODYKNOWS0001", secretAccessKey: "x" }, maxAttempts: 1 });
    await expect(unknown.send(new GetAuthorizationTokenCommand({}))).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    const sts = new STSClient({ region: "us-east-1", endpoint: standIn.url, credentials: wrong, maxAttempts: 1 });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "x1" }))).rejects.toMatchObject({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 } });
    const untrusted = new STSClient({ region: "us-east-1", endpoint: standIn.url, credentials: KEY, maxAttempts: 1 });
    await expect(untrusted.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::123456789012:role/other", RoleSessionName: "x1" }))).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("counts calls, and can be made to hang until stopped", async () => {
    const before = standIn.calls().getAuthorizationToken;
    await Promise.all(Array.from({ length: 4 }, () => call("ecr", "{}")));
    expect(standIn.calls().getAuthorizationToken).toBe(before + 4);
    standIn.setFault("hang");
    const hung = fetch(standIn.url, { method: "POST", body: "{}", headers: { "x-amz-target": GET_TOKEN }, signal: AbortSignal.timeout(300) });
    await expect(hung).rejects.toThrow();
    standIn.setFault(undefined);
  });
});
