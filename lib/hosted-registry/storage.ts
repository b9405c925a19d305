import type { Readable } from "node:stream";
import { Pool, type Dispatcher } from "undici";
import type { StorageAccess, StorageTokens } from "./signing";

/**
 * Gantry's client for its storage engine (distribution on loopback, or the
 * operator's GANTRY_REGISTRY_BACKEND): every request carries a token Gantry
 * signed for exactly the access it needs. Bodies stream both ways.
 */
export interface StorageBackend {
  /** Origin of distribution now (the embedded one may move after a restart). */
  origin(): string;
  tokens: StorageTokens;
  /** Resolves when the storage answers (the embedded one after a restart); absent for a backend. */
  ready?: () => Promise<void>;
}

/** The storage is restarting or unreachable: the client may retry. */
export class StorageUnavailable extends Error {
  override name = "StorageUnavailable";
}

const READY_WAIT_MS = 10_000;

const pools = new Map<string, Pool>();
function pool(origin: string): Pool {
  let p = pools.get(origin);
  if (!p) {
    if (pools.size > 8) {
      // The embedded distribution moved (restarts): drop pools of old origins.
      for (const [o, old] of pools) {
        pools.delete(o);
        void old.close();
      }
    }
    p = new Pool(origin, { connections: 64, headersTimeout: 60_000, bodyTimeout: 300_000, keepAliveTimeout: 30_000 });
    pools.set(origin, p);
  }
  return p;
}

export async function closeStoragePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

export interface StorageCall {
  method: "GET" | "HEAD" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** Path and query on distribution, e.g. /v2/<app id>/api/blobs/sha256:… */
  path: string;
  access: StorageAccess[];
  headers?: Record<string, string>;
  body?: Readable | Buffer | null;
  signal?: AbortSignal;
}

export async function callStorage(backend: StorageBackend, call: StorageCall): Promise<Dispatcher.ResponseData> {
  try {
    return await callOnce(backend, call);
  } catch (e) {
    // The embedded engine died a moment ago (its exit not seen yet): a request without a body
    // waits for the restart and is sent once more.
    if (!(e instanceof StorageUnavailable) || !backend.ready || call.body) throw e;
    await new Promise((r) => setTimeout(r, 250));
    return callOnce(backend, call);
  }
}

async function callOnce(backend: StorageBackend, call: StorageCall): Promise<Dispatcher.ResponseData> {
  if (backend.ready) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StorageUnavailable("the registry's storage is restarting")), READY_WAIT_MS);
    });
    try {
      await Promise.race([backend.ready(), late]);
    } catch (e) {
      throw e instanceof StorageUnavailable ? e : new StorageUnavailable("the registry's storage did not start");
    } finally {
      clearTimeout(timer);
    }
  }
  const token = await backend.tokens.token(call.access);
  try {
    return await pool(backend.origin()).request({
      method: call.method,
      path: call.path,
      headers: { ...call.headers, authorization: `Bearer ${token}` },
      body: call.body ?? null,
      signal: call.signal,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CONNECT_TIMEOUT") throw new StorageUnavailable(`the registry's storage is unreachable (${code})`);
    throw e;
  }
}

/** Storage name of an image: "<app id>/<repository>" (so a slug can change without moving content). */
export const storageName = (appId: string, repository: string) => `${appId}/${repository}`;

export const pullAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["pull"] }];
export const pushAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["pull", "push"] }];
export const deleteAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["delete"] }];
