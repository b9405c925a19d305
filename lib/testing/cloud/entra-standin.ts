import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import type http from "node:http";
import os from "node:os";
import path from "node:path";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { freePort } from "../registries/ports";

/** A service principal: an app registration's client ID and its secret, in one tenant. */
export interface EntraApp {
  clientId: string;
  secret: string;
  /** The service principal's object ID (the token's oid); random when not given. */
  objectId?: string;
}

export interface EntraTenant {
  /** The directory (tenant) ID, a GUID. */
  id: string;
  /** Verified domains that name the tenant too ("contoso.onmicrosoft.com"). */
  domains?: string[];
  apps: EntraApp[];
}

export interface EntraRequestRecord {
  method: string;
  path: string;
  status: number;
  /** The error code of a refusal (AADSTS7000215 → 7000215). */
  errorCode?: number;
}

export interface EntraStandIn {
  /** The authority host, https://127.0.0.1:PORT (what GANTRY_AZURE_AUTHORITY_HOST names). */
  url: string;
  /** PEM of the CA that signed the stand-in's certificate (cloudTransport's extraCa). */
  ca: string;
  /** Its token-signing keys, as Entra publishes them at jwks_uri. */
  jwks: JSONWebKeySet;
  /** A key getter for jose's jwtVerify over those keys (what a resource such as ACR trusts). */
  keys: JWTVerifyGetKey;
  /** The v1 issuer of access tokens for a tenant (tokens for *.azure.net resources are v1). */
  issuer(tenantId: string): string;
  /** Signs an access token like the token endpoint does, e.g. an expired one (negative lifetime). */
  signAccessToken(claims: { tid: string; appid: string; aud: string; lifetimeSeconds: number }): Promise<string>;
  /** Lifetime of the access tokens the token endpoint issues from now on. */
  setTokenLifetime(seconds: number): void;
  /** Access tokens issued by the token endpoint. */
  tokensMinted(): number;
  requests(): EntraRequestRecord[];
  /** While on, every request is accepted and never answered. */
  hang(on: boolean): void;
  stop(): Promise<void>;
}

/** Resources whose `/.default` scope the stand-in knows (the ones Gantry's ACR kind may ask for). */
const KNOWN_RESOURCES = new Set(["https://containerregistry.azure.net", "https://management.azure.com", "https://management.core.windows.net"]);
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access"]);

/** A CA and a certificate for 127.0.0.1/localhost signed by it, made with the openssl CLI (MSAL demands an https authority). */
export function makeTlsCertificates(dir: string): { ca: string; key: string; cert: string } {
  const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  o(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Gantry test Entra CA"]);
  o(["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
  fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
  o(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf"]);
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  return { ca: read("ca.crt"), key: read("server.key"), cert: read("server.crt") };
}

/** Reads a small form body (the stand-in's own bound: 64 KiB). */
export async function readForm(req: http.IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > 64 * 1024) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/**
 * A stand-in for Microsoft Entra ID's v2.0 endpoints, over HTTPS: the OpenID
 * configuration MSAL reads before it asks for a token, the signing keys, and
 * the token endpoint's client-credentials grant. It checks what Entra checks
 * (the tenant by ID or verified domain, the application in that tenant, its
 * secret, a `/.default` scope of a known resource) and refuses with Entra's
 * error shape: `error`, `error_description` starting with the AADSTS code,
 * `error_codes`, trace and correlation IDs. Access tokens are RS256 JWTs with
 * Entra's v1 claims (aud, iss, tid, appid, oid, exp).
 */
export async function startEntraStandIn(opts: { tenants: EntraTenant[]; tokenLifetimeSeconds?: number }): Promise<EntraStandIn> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-entra-"));
  const tls = makeTlsCertificates(dir);
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = crypto.randomBytes(12).toString("base64url");
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, use: "sig", alg: "RS256" }] };
  let lifetime = opts.tokenLifetimeSeconds ?? 3599;
  const records: EntraRequestRecord[] = [];
  let minted = 0;
  let hanging = false;
  const objectIds = new Map<string, string>();

  const tenantOf = (name: string) => opts.tenants.find((t) => t.id === name.toLowerCase() || (t.domains ?? []).some((d) => d.toLowerCase() === name.toLowerCase()));
  const issuer = (tid: string) => `https://sts.windows.net/${tid}/`;
  const sign = (claims: { tid: string; appid: string; aud: string; lifetimeSeconds: number }, key: CryptoKey = privateKey) => {
    const now = Math.floor(Date.now() / 1000);
    const oid = objectIds.get(claims.appid) ?? crypto.randomUUID();
    objectIds.set(claims.appid, oid);
    return new SignJWT({ tid: claims.tid, appid: claims.appid, appidacr: "1", idp: issuer(claims.tid), oid, ver: "1.0" })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
      .setIssuer(issuer(claims.tid))
      .setAudience(claims.aud)
      .setSubject(oid)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + claims.lifetimeSeconds)
      .sign(key);
  };

  const port = await freePort();
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    // URLs in answers name the host the client asked for (127.0.0.1 or localhost), as MSAL checks the issuer's.
    const base = `https://${req.headers.host ?? `127.0.0.1:${port}`}`;
    const url = new URL(req.url ?? "/", base);
    const record: EntraRequestRecord = { method: req.method ?? "", path: url.pathname, status: 0 };
    records.push(record);
    if (hanging) return;
    const json = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    // Entra's refusals: the description starts with the AADSTS code and ends with trace lines.
    const refuse = (status: number, error: string, code: number, text: string) => {
      record.errorCode = code;
      const trace = crypto.randomUUID();
      const correlation = crypto.randomUUID();
      const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
      json(status, {
        error,
        error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: trace,
        correlation_id: correlation,
        error_uri: `${base}/error?code=${code}`,
      });
    };
    const unknownTenant = (name: string) =>
      `Tenant '${name}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;

    const [tenantName = "", ...rest] = url.pathname.split("/").filter(Boolean);
    const route = rest.join("/");
    if (req.method === "GET" && (route === "v2.0/.well-known/openid-configuration" || route === "discovery/v2.0/keys")) {
      const tenant = tenantOf(tenantName);
      if (!tenant) return refuse(400, "invalid_tenant", 90002, unknownTenant(tenantName));
      if (route === "discovery/v2.0/keys") return json(200, jwks);
      return json(200, {
        token_endpoint: `${base}/${tenant.id}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/${tenant.id}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: `${base}/${tenant.id}/v2.0`,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${base}/${tenant.id}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/${tenant.id}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/${tenant.id}/oauth2/v2.0/logout`,
        tenant_region_scope: "EU",
        cloud_instance_name: "microsoftonline.com",
      });
    }
    if (req.method !== "POST" || route !== "oauth2/v2.0/token") return json(404, { error: "not_found" });
    void readForm(req).then(async (form) => {
      if (!form) return refuse(400, "invalid_request", 900144, "The request body is too large.");
      const tenant = tenantOf(tenantName);
      if (!tenant) return refuse(400, "invalid_request", 90002, unknownTenant(tenantName));
      if (form.get("grant_type") !== "client_credentials")
        return refuse(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
      const clientId = form.get("client_id") ?? "";
      const app = tenant.apps.find((a) => a.clientId === clientId.toLowerCase());
      if (!app)
        return refuse(
          400,
          "unauthorized_client",
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant.domains?.[0] ?? tenant.id}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        );
      const secret = form.get("client_secret") ?? "";
      const a = Buffer.from(secret);
      const b = Buffer.from(app.secret);
      if (a.length !== b.length || !crypto.timingSafeEqual(a, b))
        return refuse(
          401,
          "invalid_client",
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        );
      const scopes = (form.get("scope") ?? "").split(" ").filter((s) => s && !OIDC_SCOPES.has(s));
      const scope = scopes[0] ?? "";
      if (scopes.length !== 1 || !scope.endsWith("/.default"))
        return refuse(400, "invalid_scope", 1002012, `The provided value for scope ${scopes.join(" ")} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
      const resource = scope.slice(0, -"/.default".length);
      if (!KNOWN_RESOURCES.has(resource))
        return refuse(400, "invalid_resource", 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant.id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
      const accessToken = await sign({ tid: tenant.id, appid: app.clientId, aud: resource, lifetimeSeconds: lifetime });
      minted++;
      json(200, { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  for (const t of opts.tenants) for (const a of t.apps) if (a.objectId) objectIds.set(a.clientId, a.objectId);

  return {
    url: `https://127.0.0.1:${port}`,
    ca: tls.ca,
    jwks,
    keys: createLocalJWKSet(jwks),
    issuer,
    signAccessToken: (claims) => sign(claims),
    setTokenLifetime: (seconds) => void (lifetime = seconds),
    tokensMinted: () => minted,
    requests: () => [...records],
    hang: (on) => void (hanging = on),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
