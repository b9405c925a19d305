import { LRUCache } from "lru-cache";
import type { Challenge } from "./challenge";

export const CHALLENGE_CACHE_LIMITS = { max: 1_000, ttlMs: 60 * 60 * 1000 };

/**
 * Challenges seen per registry host, so a second request can authenticate up
 * front. Bounded (any tenant can add any number of registries): least recently
 * used hosts are evicted past CHALLENGE_CACHE_LIMITS.max, and a challenge is
 * relearned after an hour at most. A challenge header is at most undici's
 * header size limit, so the cache's memory is bounded too.
 */
export class ChallengeCache {
  readonly #lru: LRUCache<string, { challenge: Challenge | null }>;
  constructor(limits: { max: number; ttlMs: number } = CHALLENGE_CACHE_LIMITS, now: () => number = () => performance.now()) {
    this.#lru = new LRUCache({ max: limits.max, ttl: limits.ttlMs, ttlResolution: 0, ttlAutopurge: false, perf: { now } });
  }
  /** undefined: never seen; null: seen, no authentication asked. */
  get(host: string): Challenge | null | undefined {
    return this.#lru.get(host)?.challenge;
  }
  set(host: string, challenge: Challenge | null): void {
    this.#lru.set(host, { challenge });
  }
  clear(): void {
    this.#lru.clear();
  }
  get size(): number {
    return this.#lru.size;
  }
}

