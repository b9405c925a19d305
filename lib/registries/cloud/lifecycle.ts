import type { CredentialSource, RegistryCredentials } from "@/lib/registry-client/client";
import { CloudCredentialError, type MintedCredentials } from "./types";

/** Refresh when this share of a token's life has passed. */
export const REFRESH_AT_SHARE = 0.75;
/** After a failed mint, callers get the same error for this long instead of each calling the cloud again. */
export const FAILURE_BACKOFF_MS = 10_000;
/** A token minted because the registry refused the previous one is not thrown away again for this long. */
export const REFUSAL_REMINT_INTERVAL_MS = 30_000;
/** Bounds on what a cloud may say about a token's life (a lying or misconfigured API must not make Gantry mint in a loop or keep a token for weeks). */
export const LIFETIME_BOUNDS_MS = { min: 2_000, max: 24 * 3600_000 };

interface Held {
  creds: RegistryCredentials;
  mintedAt: number;
  refreshAt: number;
  expiresAt: number;
  /** Minted because the registry refused the one before. */
  afterRefusal: boolean;
}

export interface LifecycleEvents {
  minted?(at: Date, expiresAt: Date): void;
  failed?(at: Date, error: CloudCredentialError): void;
}

/**
 * One registry's short-lived credentials in this process: minted on first use,
 * shared by every request and probe, refreshed at 75 % of their life with one
 * mint in flight (concurrent callers wait for it), and refreshed once when the
 * registry refuses them. While a refresh fails, a token that has not expired is
 * still used; once it has, callers get the mint's error in words.
 */
export class RefreshingCredentials implements CredentialSource {
  #held: Held | undefined;
  #inflight: Promise<Held> | undefined;
  #failure: { error: CloudCredentialError; until: number } | undefined;
  #nextAfterRefusal = false;
  /** Mints started (tests and benchmarks). */
  mints = 0;

  constructor(
    private readonly mint: () => Promise<MintedCredentials>,
    private readonly events: LifecycleEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<RegistryCredentials> {
    const t = this.now();
    const held = this.#held;
    if (held && t < held.refreshAt) return held.creds;
    if (this.#failure && t < this.#failure.until && !this.#inflight) {
      if (held && t < held.expiresAt) return held.creds;
      throw this.#failure.error;
    }
    try {
      return (await this.#refresh()).creds;
    } catch (e) {
      // The refresh failed, but the token it was to replace still works: use it until it expires.
      if (held && this.now() < held.expiresAt) return held.creds;
      throw e;
    }
  }

  /** Mints now, whatever the held token's age (Test connection): the error, if any, is the cloud's answer today. */
  async refreshNow(): Promise<RegistryCredentials> {
    this.#failure = undefined;
    return (await this.#refresh(true)).creds;
  }

  refused(stale: RegistryCredentials): boolean {
    const held = this.#held;
    // Already replaced (or being replaced): the caller's retry gets the new one.
    if (!held || held.creds.password !== stale.password) return true;
    if (held.afterRefusal && this.now() - held.mintedAt < REFUSAL_REMINT_INTERVAL_MS) return false;
    // The registry said it no longer works: never used again, even if the next mint fails.
    this.#held = undefined;
    this.#nextAfterRefusal = true;
    return true;
  }

  /** What the registry page may show: never the token. */
  state(): { mintedAt: number; expiresAt: number } | undefined {
    const h = this.#held;
    return h ? { mintedAt: h.mintedAt, expiresAt: h.expiresAt } : undefined;
  }

  #refresh(force = false): Promise<Held> {
    if (this.#inflight && !force) return this.#inflight;
    const afterRefusal = this.#nextAfterRefusal;
    this.#nextAfterRefusal = false;
    this.mints++;
    const started = this.now();
    const run = (async () => {
      let minted: MintedCredentials;
      try {
        minted = await this.mint();
      } catch (e) {
        const error = e instanceof CloudCredentialError ? e : new CloudCredentialError("protocol", `Minting registry credentials failed: ${e instanceof Error ? e.message : String(e)}`);
        this.#failure = { error, until: this.now() + FAILURE_BACKOFF_MS };
        this.events.failed?.(new Date(this.now()), error);
        throw error;
      }
      const life = Math.min(Math.max(minted.expiresAt - started, LIFETIME_BOUNDS_MS.min), LIFETIME_BOUNDS_MS.max);
      const held: Held = {
        creds: { username: minted.username, password: minted.password },
        mintedAt: started,
        refreshAt: started + life * REFRESH_AT_SHARE,
        expiresAt: started + life,
        afterRefusal,
      };
      this.#held = held;
      this.#failure = undefined;
      this.events.minted?.(new Date(started), new Date(held.expiresAt));
      return held;
    })();
    this.#inflight = run;
    const clear = () => {
      if (this.#inflight === run) this.#inflight = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}
