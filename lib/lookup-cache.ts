import { LRUCache } from "lru-cache";

/**
 * A short-lived cache of database lookups on the proxy's hot path, with one
 * load in flight per key: when an entry expires under load, the requests that
 * arrive together wait for one query instead of each sending its own (ten
 * pulls of a cluster's nodes made ten reads per expiry before). Misses are
 * remembered like hits. A load that `clear()` or `set()` overtook does not
 * store its (older) answer.
 */
export class LookupCache<T> {
  readonly #lru: LRUCache<string, { value: T }>;
  readonly #inflight = new Map<string, Promise<T>>();

  constructor(opts: { max: number; ttlMs: number }) {
    this.#lru = new LRUCache<string, { value: T }>({ max: opts.max, ttl: opts.ttlMs, ttlAutopurge: false });
  }

  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.#lru.get(key);
    if (hit) return Promise.resolve(hit.value);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p: Promise<T> = load().then(
      (value) => {
        if (this.#inflight.get(key) === p) {
          this.#inflight.delete(key);
          this.#lru.set(key, { value });
        }
        return value;
      },
      (e: unknown) => {
        if (this.#inflight.get(key) === p) this.#inflight.delete(key);
        throw e;
      },
    );
    this.#inflight.set(key, p);
    return p;
  }

  set(key: string, value: T): void {
    this.#inflight.delete(key);
    this.#lru.set(key, { value });
  }

  clear(): void {
    this.#inflight.clear();
    this.#lru.clear();
  }
}
