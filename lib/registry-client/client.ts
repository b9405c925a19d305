import { getDomain } from "tldts";
import { isHostAllowlisted, parseAllowlist } from "@/lib/net/ssrf";
import { parseWwwAuthenticate, pickChallenge, type Challenge } from "./challenge";
import { ChallengeCache } from "./challenge-cache";
import { RegistryNetworkError } from "./errors";
import { BODY_LIMITS, DEFAULT_HTTP, discard, hostPort, httpRequest, readBounded, type HttpOptions, type HttpResponse } from "./http";
import { MANIFEST_ACCEPT } from "./media-types";
import { sharedTokenCache, TokenCache } from "./token-cache";

export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * Credentials that change: a cloud registry's short-lived token (lib/registries/cloud).
 * `current()` may wait for a refresh; `refused(stale)` says the registry refused those
 * credentials and returns whether a retry with fresh ones is worthwhile (each request
 * retries at most once).
 */
export interface CredentialSource {
  current(): Promise<RegistryCredentials>;
  refused(stale: RegistryCredentials): boolean;
}

function isSource(c: RegistryCredentials | CredentialSource | undefined): c is CredentialSource {
  return typeof c === "object" && c !== null && typeof (c as CredentialSource).current === "function";
}

export interface RegistryClientOptions {
  /** "https://quay.io", "http://127.0.0.1:5000" — the API endpoint. */
  endpoint: string;
  credentials?: RegistryCredentials | CredentialSource;
  http: HttpOptions;
  /** Realm hosts, beyond the registry's own, that may receive its credentials. */
  trustedRealmHosts?: string[];
  tokenCache?: TokenCache;
  /** Turn off token reuse (the benchmark's baseline). */
  reuseTokens?: boolean;
}

export interface ManifestInfo {
  status: number;
  mediaType: string | undefined;
  digest: string | undefined;
  size: number | undefined;
  /** The challenge error when the registry refused, e.g. "insufficient_scope". */
  authError: string | undefined;
  challenge: Challenge | undefined;
  retryAfterSeconds: number | undefined;
  /** The body, for GET requests. */
  body?: Buffer;
}

export type AuthOutcome =
  | { kind: "ok"; scheme: "none" | "basic" | "bearer"; status: number }
  | { kind: "rejected"; scheme: "basic" | "bearer"; status: number; detail: string }
  | { kind: "unexpected"; status: number; detail: string };

/** Known token realms outside a registry's own host (registry host → realm host). */
const KNOWN_REALMS: Record<string, string[]> = {
  "registry-1.docker.io": ["auth.docker.io"],
  "docker.io": ["auth.docker.io"],
};

const challengeCache = new ChallengeCache();

function retryAfter(headers: Record<string, string | string[] | undefined>): number | undefined {
  const v = headers["retry-after"];
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const n = Number(s);
  if (Number.isFinite(n)) return Math.max(0, n);
  const date = Date.parse(s);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

const header = (h: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * A registry API client (OCI distribution, pull side): ping, challenge
 * handling (Basic and Bearer), token flow with caching, manifests and generic
 * authorized GET/HEAD for the proxy. Every connection goes through the SSRF guard.
 */
export class RegistryClient {
  readonly base: URL;
  readonly #opts: RegistryClientOptions;
  readonly #cache: TokenCache;
  /** Upstream requests made (registry and token server), for benchmarks and tests. */
  requests = 0;

  constructor(opts: RegistryClientOptions) {
    this.#opts = opts;
    this.base = new URL(opts.endpoint.endsWith("/") ? opts.endpoint : `${opts.endpoint}/`);
    this.#cache = opts.tokenCache ?? sharedTokenCache;
    if (this.base.protocol === "http:" && !this.#plainHttpAllowed()) {
      throw new RegistryNetworkError(
        "blocked",
        `Plain http:// is only allowed for hosts listed in GANTRY_ALLOWED_PRIVATE_HOSTS; use https://${this.base.host}.`,
        this.base.host,
      );
    }
  }

  #plainHttpAllowed(): boolean {
    return isHostAllowlisted(this.base.hostname, parseAllowlist(this.#opts.http.allowedPrivateHosts));
  }

  get host(): string {
    return this.base.host;
  }

  /**
   * A registry's trust boundary: its own host name (any port), hosts of the
   * same registrable domain per the public suffix list (auth.example.com for
   * registry.example.com, but never evil.herokuapp.com for app.herokuapp.com),
   * Docker Hub's auth.docker.io, and realm hosts the operator configured.
   */
  #realmTrusted(realm: URL): boolean {
    const registryHost = this.base.hostname.toLowerCase();
    const realmHost = realm.hostname.toLowerCase();
    if (realmHost === registryHost) return true;
    if ((KNOWN_REALMS[registryHost] ?? []).includes(realmHost)) return true;
    const site = getDomain(registryHost);
    if (site && site === getDomain(realmHost)) return true;
    return (this.#opts.trustedRealmHosts ?? []).some((h) => h === realm.host.toLowerCase() || h === realmHost);
  }

  /** Credentials only go to a realm inside the registry's trust boundary. */
  #credentialsFor(realm: URL, creds: RegistryCredentials | undefined): RegistryCredentials | undefined {
    return creds && this.#realmTrusted(realm) ? creds : undefined;
  }

  /** The credentials to use now: static ones, or the source's current token (which may mean waiting for a refresh). */
  async #creds(): Promise<RegistryCredentials | undefined> {
    const c = this.#opts.credentials;
    return isSource(c) ? c.current() : c;
  }

  /** After a refusal: whether to try again with fresh credentials (sources only, once per request). */
  #retryAfterRefusal(used: RegistryCredentials | undefined): boolean {
    const c = this.#opts.credentials;
    return isSource(c) && used !== undefined && c.refused(used);
  }

  /**
   * Whether a token realm may use the operator's private allowlist (an
   * allowlisted private address reached through someone else's challenge would
   * be an SSRF hole): only a realm on the registry's own host NAME, any port
   * (the token server of a self-hosted registry often listens on another port
   * of the same host: the test registries run theirs on 127.0.0.1:OTHER), or on
   * a host the operator listed in GANTRY_TRUSTED_REALM_HOSTS (name, or
   * name:port). Same-site realms (auth.example.com) and Docker Hub's realm are
   * trusted with credentials but must be public addresses.
   */
  #realmMayBePrivate(realm: URL): boolean {
    if (realm.hostname.toLowerCase() === this.base.hostname.toLowerCase()) return true;
    return (this.#opts.trustedRealmHosts ?? []).some((h) => h === realm.host.toLowerCase() || h === realm.hostname.toLowerCase());
  }

  /** The registry's own host:port: the one hop the private allowlist applies to. */
  get #privateHost(): string {
    return hostPort(this.base);
  }

  #tokenKey(challenge: Challenge, scopes: string[], creds: RegistryCredentials | undefined): string {
    const realm = new URL(challenge.params.realm ?? "");
    return TokenCache.key({ realm: realm.href, service: challenge.params.service, scopes, credentials: this.#credentialsFor(realm, creds) });
  }

  async #fetchToken(challenge: Challenge, scopes: string[], allCreds: RegistryCredentials | undefined): Promise<string> {
    const realmRaw = challenge.params.realm;
    if (!realmRaw) throw new RegistryNetworkError("protocol", `${this.host} sent a Bearer challenge without a realm.`, this.host);
    const realm = new URL(realmRaw);
    if (realm.protocol !== "https:" && realm.protocol !== "http:") throw new RegistryNetworkError("protocol", "Token realm is not http(s).", this.host);
    const creds = this.#credentialsFor(realm, allCreds);
    // Credentials never travel over plain http, unless the operator allowed that host as private (a local test registry).
    if (creds && realm.protocol === "http:" && !isHostAllowlisted(realm.hostname, parseAllowlist(this.#opts.http.allowedPrivateHosts))) {
      throw new RegistryNetworkError(
        "protocol",
        `${this.host} asks for its credentials to be sent over plain http:// to ${realm.host}; Gantry refused. The token realm must use https://.`,
        this.host,
      );
    }
    const privateHost = this.#realmMayBePrivate(realm) ? hostPort(realm) : null;
    const service = challenge.params.service;
    const key = this.#tokenKey(challenge, scopes, allCreds);
    const fetcher = async () => {
      const url = new URL(realm.href);
      if (service) url.searchParams.set("service", service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (creds) url.searchParams.set("account", creds.username);
      const headers: Record<string, string> = { accept: "application/json" };
      if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      this.requests++;
      const res = await httpRequest({ method: "GET", url, headers, privateHost }, this.#opts.http);
      if (res.statusCode !== 200) {
        await discard(res);
        throw new TokenError(res.statusCode, `The token server at ${realm.host} answered ${res.statusCode}.`);
      }
      const text = (await readBounded(res, BODY_LIMITS.token, "a token response", realm.host)).toString("utf8");
      let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        throw new RegistryNetworkError("protocol", `The token server at ${realm.host} did not answer JSON.`, realm.host);
      }
      const token = typeof json.token === "string" ? json.token : typeof json.access_token === "string" ? json.access_token : undefined;
      if (!token) throw new RegistryNetworkError("protocol", `The token server at ${realm.host} sent no token.`, realm.host);
      return { token, expiresInSeconds: typeof json.expires_in === "number" ? json.expires_in : undefined };
    };
    if (this.#opts.reuseTokens === false) {
      return (await fetcher()).token;
    }
    return this.#cache.get(key, fetcher);
  }

  #basic(c: RegistryCredentials | undefined): string | undefined {
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}` : undefined;
  }

  /**
   * GET or HEAD a path under /v2/, authenticating as the registry asks: with a
   * known challenge the first request already carries credentials; on a 401 the
   * challenge is followed once (Basic: resend with credentials; Bearer: fetch a
   * token for the scope, then retry). Credentials from a source that the
   * registry (or its token server) refuses are refreshed and tried once more.
   */
  async request(method: "GET" | "HEAD", path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const creds = await this.#creds();
    let res: HttpResponse;
    try {
      res = await this.#request(method, path, options, creds);
    } catch (e) {
      if (e instanceof TokenError && (e.status === 401 || e.status === 403) && this.#retryAfterRefusal(creds)) {
        return this.#request(method, path, options, await this.#creds());
      }
      throw e;
    }
    if ((res.statusCode === 401 || res.statusCode === 403) && this.#retryAfterRefusal(creds)) {
      await discard(res);
      return this.#request(method, path, options, await this.#creds());
    }
    return res;
  }

  async #request(method: "GET" | "HEAD", path: string, options: RequestOptions, creds: RegistryCredentials | undefined): Promise<HttpResponse> {
    const url = new URL(path.replace(/^\//, ""), this.base);
    const scopes = options.scope ? [options.scope] : [];
    const send = async (authorization: string | undefined) => {
      this.requests++;
      const headers = { ...(options.headers ?? {}), ...(authorization ? { authorization } : {}) };
      return httpRequest({ method, url, headers, signal: options.signal, privateHost: this.#privateHost, mode: options.mode }, this.#opts.http);
    };
    const authFor = async (challenge: Challenge | null | undefined) => {
      if (!challenge) return undefined;
      if (challenge.scheme === "basic") return this.#basic(creds);
      return `Bearer ${await this.#fetchToken(challenge, scopes, creds)}`;
    };

    const hostKey = this.base.host;
    const known = challengeCache.get(hostKey);
    const first = known ? await authFor(known) : undefined;
    const res = await send(first);
    if (res.statusCode !== 401) {
      if (known === undefined) challengeCache.set(hostKey, null);
      return res;
    }
    const challenge = pickChallenge(parseWwwAuthenticate(header(res.headers, "www-authenticate")));
    if (!challenge) return res;
    challengeCache.set(hostKey, challenge);
    const basicRefused = challenge.scheme === "basic" && (!creds || first?.startsWith("Basic "));
    // A token that had the scope asked for and still gets insufficient_scope: the account lacks access.
    const scopeRefused = challenge.scheme === "bearer" && first?.startsWith("Bearer ") && challenge.params.error === "insufficient_scope";
    if (basicRefused || scopeRefused) return res;
    await discard(res);
    if (challenge.scheme === "bearer") {
      // A cached token may have expired or been revoked early: fetch a fresh one.
      if (challenge.params.realm) this.#cache.invalidate(this.#tokenKey(challenge, scopes, creds));
    }
    return send(await authFor(challenge));
  }

  /** Manifest HEAD or GET with the full Accept list. */
  async manifest(repository: string, reference: string, method: "GET" | "HEAD" = "HEAD", signal?: AbortSignal): Promise<ManifestInfo> {
    let res;
    try {
      res = await this.request(method, `v2/${repository}/manifests/${reference}`, {
        scope: `repository:${repository}:pull`,
        headers: { accept: MANIFEST_ACCEPT },
        signal,
      });
    } catch (e) {
      if (!(e instanceof TokenError)) throw e;
      return { status: e.status === 401 || e.status === 403 ? e.status : 401, mediaType: undefined, digest: undefined, size: undefined, authError: "token_refused", challenge: undefined, retryAfterSeconds: undefined };
    }
    const body = method === "GET" ? await readBounded(res, BODY_LIMITS.manifest, "a manifest", this.host) : (await discard(res), undefined);
    const challenge = pickChallenge(parseWwwAuthenticate(header(res.headers, "www-authenticate")));
    const length = header(res.headers, "content-length");
    return {
      status: res.statusCode,
      mediaType: header(res.headers, "content-type")?.split(";")[0]?.trim(),
      digest: header(res.headers, "docker-content-digest"),
      size: length !== undefined ? Number(length) : body?.length,
      authError: challenge?.params.error,
      challenge,
      retryAfterSeconds: retryAfter(res.headers),
      body,
    };
  }

  /**
   * Pings /v2/ and follows the challenge with the configured credentials.
   * Without credentials, "ok" means the registry lets anonymous clients in.
   */
  async checkAuth(): Promise<AuthOutcome> {
    const creds = await this.#creds();
    const outcome = await this.#checkAuth(creds);
    if (outcome.kind === "rejected" && this.#retryAfterRefusal(creds)) return this.#checkAuth(await this.#creds());
    return outcome;
  }

  async #checkAuth(creds: RegistryCredentials | undefined): Promise<AuthOutcome> {
    this.requests++;
    const ping = await httpRequest({ method: "GET", url: new URL("v2/", this.base), privateHost: this.#privateHost }, this.#opts.http);
    await discard(ping);
    if (ping.statusCode === 200) return { kind: "ok", scheme: "none", status: 200 };
    if (ping.statusCode !== 401) return { kind: "unexpected", status: ping.statusCode, detail: `/v2/ answered ${ping.statusCode}; is this a container registry?` };
    const challenge = pickChallenge(parseWwwAuthenticate(header(ping.headers, "www-authenticate")));
    if (!challenge) return { kind: "unexpected", status: 401, detail: "/v2/ answered 401 without a Basic or Bearer challenge." };
    challengeCache.set(this.base.host, challenge);
    const scheme = challenge.scheme === "basic" ? "basic" : "bearer";
    let authorization: string | undefined;
    if (scheme === "basic") {
      authorization = this.#basic(creds);
      if (!authorization) return { kind: "rejected", scheme, status: 401, detail: "The registry requires a username and password." };
    } else {
      try {
        authorization = `Bearer ${await this.#fetchToken(challenge, [], creds)}`;
      } catch (e) {
        if (e instanceof TokenError) return { kind: "rejected", scheme, status: e.status, detail: e.message };
        throw e;
      }
    }
    this.requests++;
    const res = await httpRequest({ method: "GET", url: new URL("v2/", this.base), headers: { authorization }, privateHost: this.#privateHost }, this.#opts.http);
    await discard(res);
    if (res.statusCode === 200) return { kind: "ok", scheme, status: 200 };
    if (res.statusCode === 401 || res.statusCode === 403) return { kind: "rejected", scheme, status: res.statusCode, detail: `The registry answered ${res.statusCode} with the credentials.` };
    return { kind: "unexpected", status: res.statusCode, detail: `/v2/ answered ${res.statusCode} with the credentials.` };
  }
}

type RequestOptions = { scope?: string; headers?: Record<string, string>; signal?: AbortSignal; mode?: "buffered" | "stream" };

export class TokenError extends Error {
  override name = "TokenError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP options from the environment's SSRF allowlist, with the default timeouts. */
export function defaultHttpOptions(allowedPrivateHosts: string[]): HttpOptions {
  return { ...DEFAULT_HTTP, allowedPrivateHosts };
}

/** For tests: forget remembered challenges. */
export function clearChallengeCache(): void {
  challengeCache.clear();
}

/** For tests: how many registry hosts have a remembered challenge. */
export function challengeCacheSize(): number {
  return challengeCache.size;
}
