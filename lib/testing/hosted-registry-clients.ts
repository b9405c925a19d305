import { execFile } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import { promisify } from "node:util";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { createCustomer } from "@/lib/licenses/customers";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import type { BuiltImage } from "./registries/images";

const run = promisify(execFile);

/**
 * Clients of Gantry's own registry for integration tests: a team with an app
 * and its credentials (through the app's own code), skopeo pushes, and raw
 * HTTP for what a client library hides (a body that trickles in, a body
 * larger than it says).
 */
export interface Tenant {
  ctx: TeamContext;
  teamId: string;
  slug: string;
  adminToken: string;
  /** A second admin token: another principal of the same team. */
  otherAdminToken: string;
  memberToken: string;
  licenseId: string;
}

let counter = 0;

export async function createTenant(prefix: string): Promise<Tenant> {
  const stamp = `${Date.now().toString(36)}${(counter++).toString(36)}${crypto.randomBytes(2).toString("hex")}`;
  const { user, team } = await signUp({ email: `${prefix}-${stamp}@example.com`, password: "correct horse battery staple", teamName: `${prefix} ${stamp}` });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const slug = `${prefix}-${stamp}`;
  await createApp(ctx, { name: `App ${slug}`, slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  return {
    ctx,
    teamId: team.id,
    slug,
    adminToken: (await createApiToken(ctx, { name: "ci-admin", role: "admin" })).token,
    otherAdminToken: (await createApiToken(ctx, { name: "ci-admin-2", role: "admin" })).token,
    memberToken: (await createApiToken(ctx, { name: "ci-member", role: "member" })).token,
    licenseId: (await createCustomer(ctx, slug, { name: "Customer" })).license.licenseId,
  };
}

export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
export const tokenAuth = (token: string) => ({ authorization: basic(token, token) });

export const sha256 = (b: Buffer | Uint8Array) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

/** skopeo copy of a built image to the registry; resolves with skopeo's stderr, or rejects with it. */
export async function skopeoPush(image: BuiltImage, host: string, ref: string, token: string): Promise<void> {
  await run("skopeo", ["--command-timeout", "120s", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${host}/${ref}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
}

export async function skopeoPushFails(image: BuiltImage, host: string, ref: string, token: string): Promise<string> {
  try {
    await skopeoPush(image, host, ref, token);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`skopeo pushed ${ref}; it should have been refused`);
}

/** A Bearer token from the registry's /v2/token for `scope`. */
export async function bearer(host: string, token: string, scope: string): Promise<string> {
  const res = await fetch(`http://${host}/v2/token?service=${encodeURIComponent(host)}&scope=${encodeURIComponent(scope)}`, { headers: tokenAuth(token) });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** POST …/blobs/uploads/: the session's absolute URL (or the refusal). */
export async function startUpload(host: string, name: string, headers: Record<string, string>): Promise<{ status: number; url: string | null; body: { errors?: { code: string; message: string }[] }; headers: Headers }> {
  const res = await fetch(`http://${host}/v2/${name}/blobs/uploads/`, { method: "POST", headers });
  const location = res.headers.get("location");
  const body = res.status === 202 ? {} : ((await res.json()) as { errors?: { code: string; message: string }[] });
  return { status: res.status, url: location ? new URL(location, `http://${host}`).href : null, body, headers: res.headers };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Bytes the client had written when the answer came. */
  written: number;
}

/**
 * A raw request whose body is written by `feed` (chunk by chunk, as slowly as
 * it likes); resolves with the answer, even one that comes before the body
 * was all sent (the server cut it), or rejects on a socket error or when no
 * answer came within `timeoutMs`.
 */
export function rawRequest(url: string, method: string, headers: Record<string, string>, feed: (write: (chunk: Buffer) => boolean, done: () => boolean) => Promise<void>, timeoutMs = 30_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to ${method} ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      clearTimeout(timer);
      answered = true;
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8"), written }));
      res.on("error", reject);
    });
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    const write = (chunk: Buffer) => {
      if (answered || req.destroyed) return false;
      written += chunk.length;
      req.write(chunk);
      return true;
    };
    feed(write, () => answered || req.destroyed)
      .then(() => {
        if (!answered && !req.destroyed) req.end();
      })
      .catch(reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
