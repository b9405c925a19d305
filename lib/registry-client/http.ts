import { Agent, request as undiciRequest, type Dispatcher } from "undici";
import net from "node:net";
import { checkAddress, EMPTY_ALLOWLIST, guardedLookup, parseAllowlist } from "@/lib/net/ssrf";
import { classifyNetworkError, RegistryNetworkError, ResponseTooLargeError } from "./errors";

export interface HttpOptions {
  /** Hosts/CIDRs the SSRF guard lets through although private — for the registry's own endpoint only (see HttpRequest.privateHost). */
  allowedPrivateHosts: string[];
  connectTimeoutMs: number;
  /** Time to the response headers. */
  headersTimeoutMs: number;
  /** Longest pause between body chunks (not the whole body). */
  bodyTimeoutMs: number;
  maxRedirects: number;
  /**
   * Overall deadline of a buffered request (ping, token, manifest, tags):
   * connect, every redirect hop, headers and the whole body. Default 30 s.
   */
  totalTimeoutMs?: number;
}

export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;

export const DEFAULT_HTTP: Omit<HttpOptions, "allowedPrivateHosts"> = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 30_000,
  maxRedirects: 3,
  totalTimeoutMs: DEFAULT_TOTAL_TIMEOUT_MS,
};

/** Largest bodies Gantry reads into memory from an upstream. */
export const BODY_LIMITS = {
  /** distribution refuses to store manifests over 4 MiB; nothing legitimate is bigger. */
  manifest: 4 * 1024 * 1024,
  /** A token response is a JWT or two in JSON: a few KiB. */
  token: 64 * 1024,
  /** tags/list, as the proxy passes it on. */
  tags: 4 * 1024 * 1024,
};

/**
 * The floor under a streamed blob download. undici's bodyTimeout only catches
 * an upstream that goes silent; one that drips a byte every 25 s would hold a
 * request (and a proxy slot) forever. A streamed body must move at least
 * `minBytes` in every `windowMs`: 32 KiB per 30 s (~1 KiB/s) is three orders
 * of magnitude below any link a pull can use (1 Mbit/s moves 3.75 MB in 30 s),
 * so no real pull trips it, while a slow-drip upstream is cut within 30 s.
 * A floor rather than an absolute cap: a multi-GB layer over a slow link may
 * legitimately take an hour, and a floor makes a hostile upstream pay in
 * bandwidth for every second it holds a request.
 */
export const STREAM_FLOOR = { windowMs: 30_000, minBytes: 32 * 1024 };

const agents = new Map<string, Agent>();

/**
 * One keep-alive agent per SSRF policy and timeout set, shared by every client.
 * `allowPrivate` false gives an agent whose DNS guard uses an empty allowlist;
 * its pool never shares a connection with the privileged one.
 */
export function agentFor(options: HttpOptions, allowPrivate = true): Agent {
  const allowed = allowPrivate ? options.allowedPrivateHosts : [];
  const key = JSON.stringify([allowed, options.connectTimeoutMs, options.headersTimeoutMs, options.bodyTimeoutMs]);
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { lookup: guardedLookup(allowPrivate ? parseAllowlist(allowed) : EMPTY_ALLOWLIST), timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
      connections: 64,
    });
    agents.set(key, agent);
  }
  return agent;
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/** host:port with the scheme's default port spelled out, lowercased: "registry.example.com:443". */
export function hostPort(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ""}`;
}

export interface HttpRequest {
  method: "GET" | "HEAD";
  url: URL;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * The one host:port (see hostPort) whose hops may use the operator's private
   * allowlist — the registry's endpoint, or a token realm on the registry's own
   * host name. Every other hop (a redirect elsewhere, a foreign realm) is checked
   * with an empty allowlist: public addresses only. null: no hop may.
   */
  privateHost: string | null;
  /**
   * "buffered" (default): the whole exchange, body included, must finish
   * within totalTimeoutMs. "stream" (blobs): no overall deadline; connect and
   * header timeouts apply and the caller enforces STREAM_FLOOR on the body.
   */
  mode?: "buffered" | "stream";
}

export type HttpResponse = Dispatcher.ResponseData & { url: URL };

/**
 * One request with bounded redirects. Redirects are followed here, each hop
 * through the SSRF guard with the allowlist that hop is entitled to;
 * Authorization is dropped as soon as a redirect changes the scheme or the
 * host:port (blob storage URLs carry their own auth, and credentials never
 * follow a downgrade to http). Network failures become RegistryNetworkError
 * with their kind.
 */
export async function httpRequest(req: HttpRequest, options: HttpOptions): Promise<HttpResponse> {
  let url = req.url;
  let headers = { ...(req.headers ?? {}) };
  const signals: AbortSignal[] = [];
  if (req.signal) signals.push(req.signal);
  if ((req.mode ?? "buffered") === "buffered") signals.push(AbortSignal.timeout(options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS));
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const operatorAllowlist = parseAllowlist(options.allowedPrivateHosts);
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    const allowPrivate = req.privateHost !== null && hostPort(url) === req.privateHost.toLowerCase();
    try {
      // undici skips the DNS lookup (and so the guard) for IP literals: check them here.
      const literal = url.hostname.replace(/^\[|\]$/g, "");
      if (net.isIP(literal)) checkAddress(literal, literal, allowPrivate ? operatorAllowlist : EMPTY_ALLOWLIST);
      res = await undiciRequest(url, { method: req.method, headers, dispatcher: agentFor(options, allowPrivate), signal });
    } catch (e) {
      const err = classifyNetworkError(e, url.host);
      if (hop > 0 && err.kind === "blocked") {
        throw new RegistryNetworkError(
          "blocked",
          `${req.url.host} redirected to ${url.host}, which is blocked by the SSRF guard (only public addresses may be reached through a redirect).`,
          req.url.host,
          { cause: err },
        );
      }
      throw err;
    }
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && typeof location === "string") {
      await discard(res);
      if (hop >= options.maxRedirects) throw new RegistryNetworkError("protocol", `Too many redirects from ${req.url.host}.`, req.url.host);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RegistryNetworkError("protocol", `${req.url.host} sent an invalid redirect.`, req.url.host);
      }
      if (next.protocol !== "https:" && next.protocol !== "http:") throw new RegistryNetworkError("protocol", `Refused a redirect to ${next.protocol}`, url.host);
      headers = headersForRedirect(req.url, next, headers);
      url = next;
      continue;
    }
    return Object.assign(res, { url });
  }
}

/**
 * The headers to send to a redirect's target: without Authorization as soon as
 * the scheme or host:port differs from the original request's (once dropped,
 * it stays dropped: the caller passes the previous hop's headers).
 */
export function headersForRedirect(original: URL, next: URL, headers: Record<string, string>): Record<string, string> {
  if (next.protocol === original.protocol && hostPort(next) === hostPort(original)) return headers;
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
}

/**
 * Reads a whole body, at most `limit` bytes. A Content-Length over the limit
 * is refused before reading; a body that passes the limit while streaming is
 * cut at once (destroying the body aborts the upstream socket). Both throw
 * ResponseTooLargeError; a network failure mid-body is classified.
 */
export async function readBounded(res: Pick<HttpResponse, "body" | "headers">, limit: number, what: string, host: string): Promise<Buffer> {
  const declared = Number(firstHeader(res.headers["content-length"]) ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new ResponseTooLargeError(what, limit, host);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        res.body.destroy();
        throw new ResponseTooLargeError(what, limit, host);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    throw classifyNetworkError(e, host);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Throws the rest of a body away without letting it hold anything: at most
 * 64 KiB and 5 s, after which the socket is dropped rather than reused.
 */
export async function discard(res: Pick<HttpResponse, "body">): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024, signal: AbortSignal.timeout(5_000) });
  } catch {
    res.body.destroy();
  }
}

/**
 * Watches a streamed body against STREAM_FLOOR-style limits: every `windowMs`
 * the byte count must have grown by `minBytes`, else `onStall` runs (the caller
 * destroys the streams). Returns a function that stops the watch.
 */
export function watchThroughput(bytesSoFar: () => number, floor: { windowMs: number; minBytes: number }, onStall: () => void): () => void {
  let last = bytesSoFar();
  const timer = setInterval(() => {
    const now = bytesSoFar();
    if (now - last < floor.minBytes) {
      clearInterval(timer);
      onStall();
      return;
    }
    last = now;
  }, floor.windowMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A response header's first value. */
export function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
