import { Agent, request as undiciRequest, type Dispatcher } from "undici";
import net from "node:net";
import { checkAddress, guardedLookup, parseAllowlist } from "@/lib/net/ssrf";
import { classifyNetworkError, RegistryNetworkError } from "./errors";

export interface HttpOptions {
  /** Hosts/CIDRs the SSRF guard lets through although private. */
  allowedPrivateHosts: string[];
  connectTimeoutMs: number;
  /** Time to the response headers. */
  headersTimeoutMs: number;
  /** Longest pause between body chunks (not the whole body). */
  bodyTimeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_HTTP: Omit<HttpOptions, "allowedPrivateHosts"> = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 30_000,
  maxRedirects: 3,
};

const agents = new Map<string, Agent>();

/** One keep-alive agent per SSRF policy and timeout set, shared by every client. */
export function agentFor(options: HttpOptions): Agent {
  const key = JSON.stringify(options);
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connect: { lookup: guardedLookup(parseAllowlist(options.allowedPrivateHosts)), timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
      connections: 64,
    });
    agents.set(key, agent);
  }
  return agent;
}

export interface HttpRequest {
  method: "GET" | "HEAD";
  url: URL;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * One request with bounded redirects. Redirects are followed here, each hop
 * through the same SSRF-guarded agent; Authorization is dropped when a
 * redirect leaves the original host (blob storage URLs carry their own auth).
 * Network failures become RegistryNetworkError with their kind.
 */
export async function httpRequest(req: HttpRequest, options: HttpOptions): Promise<Dispatcher.ResponseData & { url: URL }> {
  let url = req.url;
  let headers = { ...(req.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      // undici skips the DNS lookup (and so the guard) for IP literals: check them here.
      const literal = url.hostname.replace(/^\[|\]$/g, "");
      if (net.isIP(literal)) checkAddress(literal, literal, parseAllowlist(options.allowedPrivateHosts));
      res = await undiciRequest(url, { method: req.method, headers, dispatcher: agentFor(options), signal: req.signal });
    } catch (e) {
      throw classifyNetworkError(e, url.host);
    }
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && typeof location === "string") {
      await res.body.dump();
      if (hop >= options.maxRedirects) throw new RegistryNetworkError("protocol", `Too many redirects from ${req.url.host}.`, req.url.host);
      const next = new URL(location, url);
      if (next.protocol !== "https:" && next.protocol !== "http:") throw new RegistryNetworkError("protocol", `Refused a redirect to ${next.protocol}`, url.host);
      if (next.host !== req.url.host) {
        const { authorization: _dropped, ...rest } = headers;
        void _dropped;
        headers = rest;
      }
      url = next;
      continue;
    }
    return Object.assign(res, { url });
  }
}
