import type { Readable } from "node:stream";
import { Pool, type Dispatcher } from "undici";
import type { StorageAccess, StorageTokens } from "./signing";
import { takeWriteSlot } from "./write-slots";

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

/**
 * Three pools per origin, so that no kind of traffic can starve another:
 * - `uploads`: requests whose body streams from a client (PATCH, a PUT or
 *   POST with a body). Such a request holds its connection for as long as the
 *   client trickles the body in, so each team holds at most
 *   GANTRY_REGISTRY_WRITE_CONNECTIONS_PER_TEAM of them (write-slots.ts) and the
 *   pool is large enough for many teams at their cap;
 * - `blobs`: blob GETs relayed from a backend, which hold their connection
 *   while the client reads;
 * - `requests`: everything else (manifests, tags, upload starts and closes,
 *   deletes), short exchanges that keep their latency whatever the others do.
 */
export type PoolKind = "requests" | "blobs" | "uploads";
const CONNECTIONS: Record<PoolKind, number> = { requests: 64, blobs: 64, uploads: 256 };

const pools = new Map<string, Pool>();
function pool(origin: string, kind: PoolKind): Pool {
  const key = `${kind} ${origin}`;
  let p = pools.get(key);
  if (!p) {
    if (pools.size > 3 * 8) {
      // The embedded distribution moved (restarts): drop pools of old origins.
      for (const [k, old] of pools) {
        pools.delete(k);
        void old.close();
      }
    }
    p = new Pool(origin, { connections: CONNECTIONS[kind], headersTimeout: 60_000, bodyTimeout: 300_000, keepAliveTimeout: 30_000 });
    pools.set(key, p);
  }
  return p;
}

/** Which pool a call goes through. */
export function poolKind(call: Pick<StorageCall, "method" | "path" | "body">): PoolKind {
  if (call.body && !Buffer.isBuffer(call.body)) return "uploads";
  if (call.method === "GET" && /\/blobs\/[^/]+$/.test(call.path.split("?")[0] ?? "")) return "blobs";
  return "requests";
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
  /** The team a streamed body is for: it waits for one of the team's write slots (write-slots.ts). */
  teamId?: string;
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
  const kind = poolKind(call);
  // The slot is held until distribution answers: it answers an upload once it has read the body.
  const release = kind === "uploads" ? await takeWriteSlot(call.teamId ?? "", call.signal) : () => {};
  try {
    return await pool(backend.origin(), kind).request({
      method: call.method,
      path: call.path,
      headers: { ...call.headers, authorization: `Bearer ${token}` },
      body: call.body ?? null,
      // An upload's body is ended, never aborted (upload-body.ts): its signal only bounds the wait for a slot.
      signal: kind === "uploads" ? undefined : call.signal,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "UND_ERR_CONNECT_TIMEOUT") throw new StorageUnavailable(`the registry's storage is unreachable (${code})`);
    throw e;
  } finally {
    release();
  }
}

/** Storage name of an image: "<app id>/<repository>" (so a slug can change without moving content). */
export const storageName = (appId: string, repository: string) => `${appId}/${repository}`;

export const pullAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["pull"] }];
export const pushAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["pull", "push"] }];
export const deleteAccess = (name: string): StorageAccess[] => [{ type: "repository", name, actions: ["delete"] }];
