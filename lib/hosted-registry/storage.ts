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
}

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
  const token = await backend.tokens.token(call.access);
  return pool(backend.origin()).request({
    method: call.method,
    path: call.path,
    headers: { ...call.headers, authorization: `Bearer ${token}` },
    body: call.body ?? null,
    signal: call.signal,
  });
}

/** Storage name of an image: "<app id>/<repository>" (so a slug can change without moving content). */
export const storageName = (appId: string, repository: string) => `${appId}/${repository}`;

export const pullAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["pull"] }];
export const pushAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["pull", "push"] }];
export const deleteAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["delete"] }];
