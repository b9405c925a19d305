import crypto from "node:crypto";

/**
 * Bearer tokens cached per (realm, service, scope, credentials) until shortly
 * before they expire. Concurrent requests for the same key share one fetch.
 */
export const MIN_TOKEN_TTL_SECONDS = 60; // the distribution spec's default, used as a floor
const EARLY_REFRESH_MS = 10_000;

interface Entry {
  token: string;
  expiresAt: number;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();
  fetches = 0;

  constructor(private readonly now: () => number = Date.now) {}

  static key(parts: { realm: string; service?: string; scopes: string[]; credentials?: { username: string; password: string } }): string {
    const cred = parts.credentials
      ? crypto.createHash("sha256").update(`${parts.credentials.username}\0${parts.credentials.password}`).digest("base64url").slice(0, 22)
      : "anonymous";
    return JSON.stringify([parts.realm, parts.service ?? "", [...parts.scopes].sort(), cred]);
  }

  async get(key: string, fetcher: () => Promise<{ token: string; expiresInSeconds?: number }>): Promise<string> {
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt - EARLY_REFRESH_MS > this.now()) return hit.token;
    let pending = this.#inflight.get(key);
    if (!pending) {
      this.fetches++;
      pending = fetcher()
        .then(({ token, expiresInSeconds }) => {
          const ttl = Math.max(expiresInSeconds ?? MIN_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS);
          const entry = { token, expiresAt: this.now() + ttl * 1000 };
          this.#entries.set(key, entry);
          return entry;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return (await pending).token;
  }

  invalidate(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The process-wide cache shared by Test connection, the probe and the proxy. */
export const sharedTokenCache = new TokenCache();
