import crypto from "node:crypto";
import { LRUCache } from "lru-cache";

/**
 * Bearer tokens cached per (realm, service, scope, credentials) until shortly
 * before they expire. Concurrent requests for the same key share one fetch.
 *
 * Bounded, because every upstream may be hostile: a token server can hand out
 * a new near-64 KiB token for every distinct scope. At most TOKEN_CACHE_LIMITS.max
 * entries and TOKEN_CACHE_LIMITS.maxBytes of tokens and keys (least recently
 * used evicted first), and no token is kept longer than maxTtlSeconds whatever
 * its `expires_in` says.
 */
export const MIN_TOKEN_TTL_SECONDS = 60; // the distribution spec's default, used as a floor
const EARLY_REFRESH_MS = 10_000;

export const TOKEN_CACHE_LIMITS = {
  max: 10_000,
  /** 16 MiB: 10,000 ordinary tokens (~1.5 KiB) fit; 60 KiB hostile tokens are evicted after ~270. */
  maxBytes: 16 * 1024 * 1024,
  maxTtlSeconds: 600,
};

interface Entry {
  token: string;
  expiresAt: number;
}

export class TokenCache {
  readonly #entries: LRUCache<string, Entry>;
  readonly #inflight = new Map<string, Promise<Entry>>();
  fetches = 0;

  constructor(
    private readonly now: () => number = Date.now,
    limits: { max?: number; maxBytes?: number } = {},
  ) {
    this.#entries = new LRUCache<string, Entry>({
      max: limits.max ?? TOKEN_CACHE_LIMITS.max,
      maxSize: limits.maxBytes ?? TOKEN_CACHE_LIMITS.maxBytes,
      // JS strings from JSON are one byte a char when ASCII, as tokens are.
      sizeCalculation: (entry, key) => entry.token.length + key.length + 64,
      ttl: TOKEN_CACHE_LIMITS.maxTtlSeconds * 1000,
      ttlResolution: 0,
      ttlAutopurge: false,
      perf: { now },
    });
  }

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
          const requested = typeof expiresInSeconds === "number" && Number.isFinite(expiresInSeconds) ? expiresInSeconds : MIN_TOKEN_TTL_SECONDS;
          const ttl = Math.min(Math.max(requested, MIN_TOKEN_TTL_SECONDS), TOKEN_CACHE_LIMITS.maxTtlSeconds);
          const entry = { token, expiresAt: this.now() + ttl * 1000 };
          this.#entries.set(key, entry, { ttl: ttl * 1000 });
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

  /** Entries held now (expired ones not yet purged included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes accounted to held entries (tokens, keys and overhead). */
  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  /** Fetches in flight. */
  get pending(): number {
    return this.#inflight.size;
  }
}

/** The process-wide cache shared by Test connection, the probe and the proxy. */
export const sharedTokenCache = new TokenCache();
