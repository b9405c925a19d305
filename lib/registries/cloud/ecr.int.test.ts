import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resetEnvForTests } from "@/lib/env";
import { startEcrStandIn, type EcrStandIn } from "@/lib/testing/cloud/ecr-standin";
import { cloudTransport } from "./transport";
import { describeEcrIdentity, ecrConfigSchema, ecrRegionFromEndpoint, mintEcrCredentials } from "./ecr";
import { CloudCredentialError } from "./types";

const KEY = { accessKeyId: "AKIAGANTRYTEST00001", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYGANTRYKEY1" };
const DENIED_KEY = { accessKeyId: "AKIAGANTRYNOPERM001", secretAccessKey: "n0Perm1ssionSecretKeyForGantryTests00001" };
const ROLE = "arn:aws:iam::123456789012:role/gantry-pull";
const GUARDED_ROLE = "arn:aws:iam::123456789012:role/vendor/gantry-external";
const EXTERNAL_ID = "gantry-team-7f3a";

let standIn: EcrStandIn;
let endpoints: { ecr: string; sts: string };
const transport = (allowed: string[] = ["127.0.0.1"], timeoutMs = 5000) => cloudTransport({ operatorEndpoints: [standIn.url], allowedPrivateHosts: allowed, timeoutMs });
const config = (over: Record<string, unknown> = {}) => ({ region: "us-east-1", accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey, ...over });

async function mintError(promise: Promise<unknown>): Promise<CloudCredentialError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CloudCredentialError);
  return e as CloudCredentialError;
}

beforeAll(async () => {
  standIn = await startEcrStandIn({
    users: [KEY, { ...DENIED_KEY, name: "no-ecr", canGetAuthorizationToken: false }],
    roles: [
      { arn: ROLE, trustedAccessKeyIds: [KEY.accessKeyId, DENIED_KEY.accessKeyId] },
      { arn: GUARDED_ROLE, trustedAccessKeyIds: [KEY.accessKeyId], externalId: EXTERNAL_ID },
    ],
    sessionLifetimeSeconds: 900,
  });
  endpoints = { ecr: standIn.url, sts: standIn.url };
});

afterEach(() => {
  standIn.clearRequests();
  standIn.setFault(undefined);
});

afterAll(async () => {
  await standIn.stop();
});

describe("mintEcrCredentials", () => {
  it("mints user AWS and the token's password, valid at the stand-in, expiring when ECR says (12 h)", async () => {
    const before = Date.now();
    const minted = await mintEcrCredentials(config(), transport(), { endpoints });
    expect(minted.username).toBe("AWS");
    expect(standIn.isValid(minted.username, minted.password)).toBe(true);
    expect(standIn.isValid("AWS", `${minted.password}x`)).toBe(false);
    expect(minted.expiresAt).toBeGreaterThanOrEqual(before + 12 * 3600_000 - 1000);
    expect(minted.expiresAt).toBeLessThanOrEqual(Date.now() + 12 * 3600_000 + 1000);
    expect(standIn.requests()).toEqual([{ api: "ecr", action: "GetAuthorizationToken", accessKeyId: KEY.accessKeyId, sessionToken: undefined, status: 200, error: undefined }]);
  });

  it("names a wrong secret in AWS's words, and never repeats the secret", async () => {
    const wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY99";
    const e = await mintError(mintEcrCredentials(config({ secretAccessKey: wrong }), transport(), { endpoints }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toMatch(/^AWS rejected the access key: InvalidSignatureException \(The request signature we calculated does not match/);
    expect(e.message).not.toContain(wrong);
    // Refused by the stand-in's signature check, not by Gantry.
    expect(standIn.requests().map((r) => r.error)).toContain("InvalidSignatureException");
  });

  it("names an access key AWS does not know", async () => {
    const e = await mintError(mintEcrCredentials(config({ accessKeyId: "AKIAUNKNOWNKEY00001" }), transport(), { endpoints }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toBe("AWS does not know the access key ID AKIAUNKNOWNKEY00001: UnrecognizedClientException (The security token included in the request is invalid.)");
  });

  it("names STS's refusals of an unknown key or a wrong secret when assuming a role", async () => {
    const unknown = await mintError(mintEcrCredentials(config({ accessKeyId: "AKIAUNKNOWNKEY00001", roleArn: ROLE }), transport(), { endpoints }));
    expect(unknown.message).toBe("AWS does not know the access key ID AKIAUNKNOWNKEY00001: InvalidClientTokenId (The security token included in the request is invalid.)");
    const wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY99";
    const e = await mintError(mintEcrCredentials(config({ secretAccessKey: wrong, roleArn: ROLE }), transport(), { endpoints }));
    expect(e.message).toMatch(/^AWS rejected the access key: SignatureDoesNotMatch \(The request signature we calculated does not match/);
    expect(e.message).not.toContain(wrong);
    expect(standIn.requests().map((r) => `${r.api} ${r.error}`)).toEqual(["sts InvalidClientTokenId", "sts SignatureDoesNotMatch"]);
  });

  it("says when the identity lacks ecr:GetAuthorizationToken", async () => {
    const e = await mintError(mintEcrCredentials(config(DENIED_KEY), transport(), { endpoints }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toMatch(/^Access key AKIAGANTRYNOPERM001 lacks ecr:GetAuthorizationToken: AccessDeniedException \(User: arn:aws:iam::123456789012:user\/no-ecr is not authorized/);
  });

  it("assumes the role, then calls ECR with the role session's credentials and token; the token dies with the session", async () => {
    const before = Date.now();
    const minted = await mintEcrCredentials(config({ roleArn: ROLE }), transport(), { endpoints, sessionId: "reg_123" });
    expect(standIn.isValid("AWS", minted.password)).toBe(true);
    const [assume, get] = standIn.requests();
    expect(assume).toMatchObject({ api: "sts", action: "AssumeRole", accessKeyId: KEY.accessKeyId, sessionToken: undefined, status: 200 });
    expect(get).toMatchObject({ api: "ecr", action: "GetAuthorizationToken", status: 200 });
    expect(get?.accessKeyId).toMatch(/^ASIA/);
    expect(get?.sessionToken).toEqual(expect.any(String));
    // The stand-in caps sessions at 900 s: the token cannot outlive them.
    expect(minted.expiresAt).toBeLessThanOrEqual(before + 901_000);
    expect(minted.expiresAt).toBeGreaterThan(before + 880_000);
  });

  it("names the role a key may not assume, and a role's missing ECR permission", async () => {
    const e = await mintError(mintEcrCredentials(config({ roleArn: "arn:aws:iam::123456789012:role/not-trusted" }), transport(), { endpoints }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toMatch(/^Access key AKIAGANTRYTEST00001 may not assume role arn:aws:iam::123456789012:role\/not-trusted .*AccessDenied \(User: .* is not authorized to perform: sts:AssumeRole/);
    standIn.setPermission(ROLE, false);
    try {
      const denied = await mintError(mintEcrCredentials(config({ roleArn: ROLE }), transport(), { endpoints }));
      expect(denied.message).toMatch(/^Role arn:aws:iam::123456789012:role\/gantry-pull lacks ecr:GetAuthorizationToken: AccessDeniedException \(User: arn:aws:sts::123456789012:assumed-role\/gantry-pull\/gantry-/);
    } finally {
      standIn.setPermission(ROLE, true);
    }
  });

  it("sends the external ID a role requires, and fails without it or with another", async () => {
    const minted = await mintEcrCredentials(config({ roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID }), transport(), { endpoints });
    expect(standIn.isValid("AWS", minted.password)).toBe(true);
    for (const externalId of [undefined, "gantry-team-other"]) {
      const e = await mintError(mintEcrCredentials(config({ roleArn: GUARDED_ROLE, externalId }), transport(), { endpoints }));
      expect(e.message).toContain(`may not assume role ${GUARDED_ROLE}`);
    }
    expect(standIn.calls().assumeRole).toBeGreaterThanOrEqual(1);
  });

  it("goes through the transport's agent: the SSRF guard refuses the stand-in on 127.0.0.1 unless the operator allowed it", async () => {
    const e = await mintError(mintEcrCredentials(config(), transport([]), { endpoints }));
    expect(e.kind).toBe("unreachable");
    expect(e.message).toContain(`Could not reach AWS ECR at ${new URL(standIn.url).host}`);
    expect(e.message).toContain("blocked by the SSRF guard");
    expect(standIn.requests()).toEqual([]);
    // STS too.
    const sts = await mintError(mintEcrCredentials(config({ roleArn: ROLE }), transport([]), { endpoints }));
    expect(sts.message).toContain("Could not reach AWS STS");
    expect(sts.message).toContain("blocked by the SSRF guard");
  });

  it("refuses settings that could name another host, before any request", async () => {
    const host = new URL(standIn.url).host;
    for (const region of [`${host}#`, "us-east-1.evil.test", "us-east-1/../x", "us-east-1@127.0.0.1", ""]) {
      const e = await mintError(mintEcrCredentials(config({ region }), transport(), { endpoints }));
      expect(e.kind).toBe("config");
      expect(e.message).toContain("region");
    }
    const badRole = await mintError(mintEcrCredentials(config({ roleArn: `arn:aws:iam::123456789012:role/x?@${host}` }), transport(), { endpoints }));
    expect(badRole.kind).toBe("config");
    const noSecret = await mintError(mintEcrCredentials(config({ secretAccessKey: undefined }), transport(), { endpoints }));
    expect(noSecret.kind).toBe("config");
    expect(standIn.requests()).toEqual([]);
  });

  it("ends a call to a token API that never answers as unreachable, within about transport.timeoutMs", async () => {
    standIn.setFault("hang");
    const started = Date.now();
    const e = await mintError(mintEcrCredentials(config(), transport(["127.0.0.1"], 1500), { endpoints }));
    const took = Date.now() - started;
    expect(e.kind).toBe("unreachable");
    expect(e.message).toBe(`AWS ECR at ${new URL(standIn.url).host} did not answer within 1.5 s.`);
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(2500);
  });

  it("rejects an answer that is not ECR's as a protocol error", async () => {
    for (const fault of ["bad-token", "no-authorization-data", "not-json"] as const) {
      standIn.setFault(fault);
      const e = await mintError(mintEcrCredentials(config(), transport(), { endpoints }));
      expect(e.kind, fault).toBe("protocol");
      expect(e.message).toContain(new URL(standIn.url).host);
    }
  });

  it("reads AWS_ENDPOINT_URL_ECR / _STS through env() when the caller passes no endpoints", async () => {
    await withEnv({ AWS_ENDPOINT_URL_ECR: standIn.url, AWS_ENDPOINT_URL_STS: standIn.url }, async () => {
      const minted = await mintEcrCredentials(config({ roleArn: ROLE }), transport());
      expect(standIn.isValid("AWS", minted.password)).toBe(true);
    });
  });
});

describe("ambient credentials", () => {
  const ambientEnv = {
    GANTRY_CLOUD_AMBIENT_CREDENTIALS: "on",
    AWS_ACCESS_KEY_ID: KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_EC2_METADATA_DISABLED: "true",
  };

  it("mints with the SDK's default chain (here the environment's key) through the same transport", async () => {
    await withEnv(ambientEnv, async () => {
      const minted = await mintEcrCredentials({ region: "us-east-1", ambient: true }, transport(), { endpoints });
      expect(standIn.isValid("AWS", minted.password)).toBe(true);
      expect(standIn.requests()[0]?.accessKeyId).toBe(KEY.accessKeyId);
      const assumed = await mintEcrCredentials({ region: "us-east-1", ambient: true, roleArn: ROLE }, transport(), { endpoints });
      expect(standIn.isValid("AWS", assumed.password)).toBe(true);
      expect(standIn.requests().slice(1).map((r) => `${r.api} ${r.action} ${r.accessKeyId?.slice(0, 4)}`)).toEqual(["sts AssumeRole AKIA", "ecr GetAuthorizationToken ASIA"]);
      const e = await mintError(mintEcrCredentials({ region: "us-east-1", ambient: true }, transport([]), { endpoints }));
      expect(e.message).toContain(`Could not reach AWS ECR at ${new URL(standIn.url).host}: Refused to connect to 127.0.0.1: blocked by the SSRF guard`);
    });
  });

  it("sends a web identity (IRSA) exchange through the pinned STS endpoint and the transport", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-ecr-irsa-"));
    fs.writeFileSync(path.join(dir, "token"), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    const irsa = { ...ambientEnv, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: path.join(dir, "token"), AWS_ROLE_ARN: ROLE };
    try {
      await withEnv(irsa, async () => {
        // The stand-in has no AssumeRoleWithWebIdentity: the exchange fails, but it reached the stand-in.
        const refused = await mintError(mintEcrCredentials({ region: "us-east-1", ambient: true }, transport(), { endpoints }));
        expect(refused.message).toBe("AWS STS refused the request: MissingAuthenticationToken (Missing Authentication Token)");
        expect(standIn.requests().map((r) => `${r.api} ${r.action}`)).toEqual(["sts AssumeRoleWithWebIdentity"]);
        standIn.clearRequests();
        const e = await mintError(mintEcrCredentials({ region: "us-east-1", ambient: true }, transport([]), { endpoints }));
        expect(e.message).toContain(`Could not reach AWS STS at ${new URL(standIn.url).host}: Refused to connect to 127.0.0.1: blocked by the SSRF guard`);
        expect(standIn.requests()).toEqual([]);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says when the ambient session credentials have expired", async () => {
    const short = await startEcrStandIn({ users: [KEY], roles: [{ arn: ROLE, trustedAccessKeyIds: [KEY.accessKeyId] }], sessionLifetimeSeconds: 1 });
    try {
      const sts = new STSClient({ region: "us-east-1", endpoint: short.url, credentials: KEY });
      const c = (await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "ambient", DurationSeconds: 3600 }))).Credentials!;
      await new Promise((r) => setTimeout(r, Math.max(0, c.Expiration!.getTime() - Date.now()) + 50));
      const session = { AWS_ACCESS_KEY_ID: c.AccessKeyId, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey, AWS_SESSION_TOKEN: c.SessionToken };
      await withEnv({ ...ambientEnv, ...session }, async () => {
        const t = cloudTransport({ operatorEndpoints: [short.url], allowedPrivateHosts: ["127.0.0.1"], timeoutMs: 5000 });
        const e = await mintError(mintEcrCredentials({ region: "us-east-1", ambient: true }, t, { endpoints: { ecr: short.url, sts: short.url } }));
        expect(e.message).toBe("The credentials of Gantry's ambient AWS identity have expired: ExpiredTokenException (The security token included in the request is expired)");
      });
    } finally {
      await short.stop();
    }
  });

  it("is refused unless the operator turned it on", async () => {
    await withEnv({ ...ambientEnv, GANTRY_CLOUD_AMBIENT_CREDENTIALS: undefined }, async () => {
      const e = await mintError(mintEcrCredentials({ region: "us-east-1", ambient: true }, transport(), { endpoints }));
      expect(e.kind).toBe("config");
      expect(e.message).toContain("GANTRY_CLOUD_AMBIENT_CREDENTIALS");
      expect(standIn.requests()).toEqual([]);
    });
  });
});

describe("over TLS", () => {
  it("mints from an https stand-in through the transport's https agent (extra CA)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-ecr-tls-"));
    try {
      const key = path.join(dir, "key.pem");
      const cert = path.join(dir, "cert.pem");
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
      const tls = await startEcrStandIn({ users: [KEY], tls: { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") } });
      try {
        const t = cloudTransport({ operatorEndpoints: [tls.url], allowedPrivateHosts: ["127.0.0.1"], extraCa: fs.readFileSync(cert, "utf8"), timeoutMs: 5000 });
        const minted = await mintEcrCredentials(config(), t, { endpoints: { ecr: tls.url, sts: tls.url } });
        expect(tls.isValid("AWS", minted.password)).toBe(true);
        // Without the CA the handshake fails: the transport's agent is the one in use.
        const untrusted = cloudTransport({ operatorEndpoints: [tls.url], allowedPrivateHosts: ["127.0.0.1"], timeoutMs: 5000 });
        const e = await mintError(mintEcrCredentials(config(), untrusted, { endpoints: { ecr: tls.url, sts: tls.url } }));
        expect(e.kind).toBe("unreachable");
      } finally {
        await tls.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("config", () => {
  it("derives the region from an ECR registry host", () => {
    expect(ecrRegionFromEndpoint("123456789012.dkr.ecr.eu-west-1.amazonaws.com")).toBe("eu-west-1");
    expect(ecrRegionFromEndpoint("https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/v2/")).toBe("cn-north-1");
    expect(ecrRegionFromEndpoint("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com:443")).toBe("us-gov-west-1");
    for (const host of ["quay.io", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.test", "12345.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu_west.amazonaws.com", "::"]) {
      expect(ecrRegionFromEndpoint(host), host).toBeUndefined();
    }
  });

  it("validates the fields and describes the identity in one line", () => {
    expect(ecrConfigSchema.safeParse({ region: "us-east-1", accessKeyId: "AKIAGANTRYTEST00001", roleArn: "", externalId: "" }).data).toEqual({ region: "us-east-1", accessKeyId: "AKIAGANTRYTEST00001", ambient: false });
    expect(ecrConfigSchema.safeParse({ region: "us-east-1" }).success).toBe(false);
    expect(ecrConfigSchema.safeParse({ region: "us-east-1", ambient: true }).success).toBe(true);
    expect(ecrConfigSchema.safeParse({ region: "us-east-1", accessKeyId: KEY.accessKeyId, externalId: EXTERNAL_ID }).success).toBe(false);
    expect(ecrConfigSchema.safeParse({ region: "us-east-1", accessKeyId: KEY.accessKeyId, roleArn: "arn:aws:iam::123:role/x" }).success).toBe(false);
    expect(ecrConfigSchema.safeParse({ region: "us-east-1", accessKeyId: KEY.accessKeyId, roleArn: "arn:aws-cn:iam::123456789012:role/path/x" }).success).toBe(true);
    expect(describeEcrIdentity({ accessKeyId: KEY.accessKeyId, ambient: false })).toBe("access key AKIAGANTRYTEST00001");
    expect(describeEcrIdentity({ ambient: true, roleArn: ROLE })).toBe(`Gantry's ambient AWS credentials, assuming ${ROLE}`);
  });
});

async function withEnv(vars: Record<string, string | undefined>, run: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetEnvForTests();
  };
  set(vars);
  try {
    await run();
  } finally {
    set(saved);
  }
}
