import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { errors as joseErrors, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { startRegistry, type RunningRegistry } from "../registries/harness";
import { freePort } from "../registries/ports";
import { readForm, startEntraStandIn, type EntraStandIn, type EntraTenant } from "./entra-standin";

/** The user ACR pairs with a refresh token. */
export const ACR_REFRESH_USER = "00000000-0000-0000-0000-000000000000";
/** Entra audiences ACR accepts at /oauth2/exchange (its own, and Azure Resource Manager's). */
const ACR_AUDIENCES = ["https://containerregistry.azure.net", "https://management.azure.com", "https://management.core.windows.net"];
const REFRESH_ISSUER = "Azure Container Registry";

export interface AcrStandInOptions {
  /** The registry's tenant (default: a random GUID) and a verified domain of it. */
  tenantId?: string;
  domain?: string;
  /** The service principal with AcrPull on the registry (defaults: random). */
  clientId?: string;
  clientSecret?: string;
  /** More Entra tenants, e.g. a foreign one whose tokens the registry must refuse. */
  otherTenants?: EntraTenant[];
  /** Lifetime of Entra access tokens (default 3599 s). */
  entraTokenLifetimeSeconds?: number;
  /** Lifetime of ACR refresh tokens, the minted passwords (default 3 h, like ACR). */
  refreshTokenLifetimeSeconds?: number;
}

export interface AcrCounters {
  /** Access tokens Entra issued. */
  entraTokens: number;
  /** Refresh tokens /oauth2/exchange issued. */
  exchanges: number;
  /** Exchanges refused. */
  exchangesRefused: number;
  /** Registry access tokens /oauth2/token issued. */
  registryTokens: number;
}

export interface AcrStandIn {
  /** The registry's endpoint (its login server), http://127.0.0.1:PORT. */
  endpoint: string;
  /** host:port, the `service` of its token flow. */
  service: string;
  /** Entra's authority host (https, self-signed CA: pass `ca` to cloudTransport's extraCa). */
  authorityHost: string;
  ca: string;
  tenantId: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  entra: EntraStandIn;
  /** The distribution registry behind the ACR front. */
  registry: RunningRegistry;
  /** `user:password` that pushes straight to that distribution (seeding images, like ACR's admin user). */
  seedCredentials: string;
  /** Whether the registry would accept these as credentials now (a live refresh token it issued). */
  isValid(username: string, password: string): boolean;
  counters(): AcrCounters;
  /** Lifetime of refresh tokens issued from now on. */
  setRefreshTokenLifetime(seconds: number): void;
  /** Entra or the exchange accept requests and never answer, until `hang(null)`. */
  hang(target: "entra" | "exchange" | null): void;
  stop(): Promise<void>;
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * A stand-in for Azure Container Registry with a service principal: the Entra
 * stand-in (HTTPS) issues access tokens; an "ACR front" on the registry's
 * endpoint answers POST /oauth2/exchange as ACR does (it verifies the Entra
 * token's signature against Entra's keys, its audience, issuer, tenant and
 * expiry, and returns a refresh token JWT with `exp`), GET /oauth2/token with
 * Basic `00000000-…:<refresh token>` (registry access tokens, pull only: the
 * AcrPull role), and proxies /v2/ to a real distribution whose token
 * challenge it rewrites to its own realm, as ACR's is
 * (`Bearer realm="https://<registry>/oauth2/token",service="<registry>"`).
 */
export async function startAcrStandIn(opts: AcrStandInOptions = {}): Promise<AcrStandIn> {
  const tenantId = (opts.tenantId ?? crypto.randomUUID()).toLowerCase();
  const domain = opts.domain ?? `contoso${crypto.randomBytes(3).toString("hex")}.onmicrosoft.com`;
  const clientId = (opts.clientId ?? crypto.randomUUID()).toLowerCase();
  const clientSecret = opts.clientSecret ?? `${crypto.randomBytes(6).toString("hex")}~${crypto.randomBytes(15).toString("base64url")}`;
  const entra = await startEntraStandIn({
    tenants: [{ id: tenantId, domains: [domain], apps: [{ clientId, secret: clientSecret }] }, ...(opts.otherTenants ?? [])],
    tokenLifetimeSeconds: opts.entraTokenLifetimeSeconds,
  });
  // The front's user at distribution's token server, and the seeding user.
  const internal = { user: "acr-front", password: crypto.randomBytes(16).toString("hex") };
  const seed = { user: "acr-admin", password: crypto.randomBytes(16).toString("hex") };
  const registry = await startRegistry({ auth: "token", users: { [internal.user]: internal.password, [seed.user]: seed.password }, publicPrefixes: [] });
  const tokenServer = registry.tokenServer ?? fail("a token registry without a token server");

  const { privateKey, publicKey } = await generateKeyPair("ES256");
  let refreshLifetime = opts.refreshTokenLifetimeSeconds ?? 3 * 60 * 60;
  /** Refresh tokens issued → their expiry (ms): isValid must answer synchronously. */
  const issued = new Map<string, number>();
  const counters: AcrCounters = { entraTokens: 0, exchanges: 0, exchangesRefused: 0, registryTokens: 0 };
  let hangExchange = false;
  const port = await freePort();
  const service = `127.0.0.1:${port}`;
  const endpoint = `http://${service}`;

  const isValid = (username: string, password: string) => username === ACR_REFRESH_USER && (issued.get(password) ?? 0) > Date.now();
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  };
  const acrError = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { errors: [{ code, message }] });

  async function onExchange(req: http.IncomingMessage, res: http.ServerResponse) {
    const refuse = (status: number, code: string, message: string) => {
      counters.exchangesRefused++;
      acrError(res, status, code, message);
    };
    const form = await readForm(req);
    if (!form) return refuse(400, "BAD_REQUEST", "request body too large");
    if (form.get("grant_type") !== "access_token") return refuse(400, "UNSUPPORTED_GRANT_TYPE", `grant type ${form.get("grant_type") ?? ""} is not supported`);
    if (form.get("service") !== service) return refuse(400, "BAD_REQUEST", `service ${form.get("service") ?? ""} does not match the registry ${service}`);
    const token = form.get("access_token") ?? "";
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, entra.keys, { algorithms: ["RS256"], audience: ACR_AUDIENCES }));
    } catch (e) {
      const why = e instanceof joseErrors.JWTExpired ? "the access token has expired" : "the access token is not valid";
      return refuse(401, "UNAUTHORIZED", `${why}, visit https://aka.ms/acr/authorization for more information.`);
    }
    const tid = typeof claims.tid === "string" ? claims.tid : "";
    const tenantParam = (form.get("tenant") ?? tid).toLowerCase();
    if (claims.iss !== entra.issuer(tid) || (tenantParam !== tid && tenantParam !== domain.toLowerCase()))
      return refuse(401, "UNAUTHORIZED", "the access token's issuer does not match the tenant, visit https://aka.ms/acr/authorization for more information.");
    // The registry lives in one tenant: tokens of any other directory get nothing.
    if (tid !== tenantId) return refuse(401, "UNAUTHORIZED", `tenant ${tid} has no access to this registry, visit https://aka.ms/acr/authorization for more information.`);
    const now = Math.floor(Date.now() / 1000);
    const refreshToken = await new SignJWT({ grant_type: "refresh_token", tenant: tid, permissions: { actions: ["read"] }, version: "1.0" })
      .setProtectedHeader({ alg: "ES256", typ: "JWT" })
      .setJti(crypto.randomUUID())
      .setSubject(typeof claims.appid === "string" ? claims.appid : String(claims.sub))
      .setIssuer(REFRESH_ISSUER)
      .setAudience(service)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + refreshLifetime)
      .sign(privateKey);
    issued.set(refreshToken, (now + refreshLifetime) * 1000);
    counters.exchanges++;
    json(res, 200, { refresh_token: refreshToken });
  }

  async function onToken(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const unauthorized = () => acrError(res, 401, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.");
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Basic ")) return unauthorized();
    const [user = "", pass = ""] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(/:(.*)/s);
    if (!isValid(user, pass)) return unauthorized();
    try {
      await jwtVerify(pass, publicKey, { issuer: REFRESH_ISSUER, audience: service, algorithms: ["ES256"] });
    } catch {
      return unauthorized();
    }
    // AcrPull: whatever was asked, only pull is granted.
    const scopes = url.searchParams
      .getAll("scope")
      .flatMap((s) => s.split(" "))
      .filter((s) => s.startsWith("repository:"))
      .map((s) => {
        const parts = s.split(":");
        const actions = (parts.pop() ?? "").split(",").filter((a) => a === "pull");
        return `${parts.join(":")}:${actions.join(",")}`;
      });
    const upstream = new URL(tokenServer.realm);
    upstream.searchParams.set("service", tokenServer.service);
    for (const s of scopes) upstream.searchParams.append("scope", s);
    const r = await fetch(upstream, { headers: { authorization: `Basic ${Buffer.from(`${internal.user}:${internal.password}`).toString("base64")}` } });
    const body = (await r.json()) as { token?: string };
    if (!r.ok || !body.token) return acrError(res, 500, "INTERNAL_ERROR", "token server failed");
    counters.registryTokens++;
    json(res, 200, { access_token: body.token });
  }

  function proxy(req: http.IncomingMessage, res: http.ServerResponse) {
    const up = http.request(
      { host: "127.0.0.1", port: registry.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (upRes) => {
        const headers = { ...upRes.headers };
        const challenge = headers["www-authenticate"];
        if (typeof challenge === "string")
          headers["www-authenticate"] = challenge
            .replace(`realm="${tokenServer.realm}"`, `realm="${endpoint}/oauth2/token"`)
            .replace(`service="${tokenServer.service}"`, `service="${service}"`);
        res.writeHead(upRes.statusCode ?? 502, headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => {
      if (!res.headersSent) acrError(res, 502, "UNAVAILABLE", "registry unavailable");
      else res.destroy();
    });
    req.pipe(up);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", endpoint);
    const onError = () => {
      if (!res.headersSent) acrError(res, 500, "INTERNAL_ERROR", "stand-in failure");
    };
    if (url.pathname === "/oauth2/exchange") {
      if (hangExchange) return;
      if (req.method !== "POST") return acrError(res, 405, "UNSUPPORTED", "method not allowed");
      return void onExchange(req, res).catch(onError);
    }
    if (url.pathname === "/oauth2/token" && req.method === "GET") return void onToken(req, res, url).catch(onError);
    if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) return proxy(req, res);
    acrError(res, 404, "NOT_FOUND", "not found");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));

  return {
    endpoint,
    service,
    authorityHost: entra.url,
    ca: entra.ca,
    tenantId,
    domain,
    clientId,
    clientSecret,
    entra,
    registry,
    seedCredentials: `${seed.user}:${seed.password}`,
    isValid,
    counters: () => ({ ...counters, entraTokens: entra.tokensMinted() }),
    setRefreshTokenLifetime: (seconds) => void (refreshLifetime = seconds),
    hang: (target) => {
      entra.hang(target === "entra");
      hangExchange = target === "exchange";
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await entra.stop();
      await registry.stop();
      await tokenServer.stop();
      fs.rmSync(registry.dir, { recursive: true, force: true });
    },
  };
}
