import net from "node:net";
import type { Agent } from "node:http";
import { gaxios } from "google-auth-library";
import { CloudCredentialError, type CloudTransport } from "./types";

/**
 * google-auth-library 10's JWT client posts to this URL and signs it as `aud`
 * whatever the key's token_uri says (gtoken/getToken.js, jwsSign.js). Gantry
 * redirects that request to the one token endpoint it allows (and sets `aud`
 * to it, see gar.ts).
 */
const LIBRARY_TOKEN_URL = "https://oauth2.googleapis.com/token";
/** A token answer is a few hundred bytes; Google's error pages a few KiB. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Retries of a 408/429/5xx or a dropped connection, all within the transport's time bound. */
const MAX_RETRIES = 2;

/**
 * The library's HTTP client (gaxios → node-fetch, which takes `agent` as a
 * function of the URL): every request through transport.agent(url), bounded in
 * size, cut off by `signal` at the deadline, retried only when transient, and
 * only to the allowed token endpoint — the library's hard-coded Google URL is
 * redirected to it, anything else is refused before a connection is made.
 * Ambient credentials may also need Google's other token APIs (STS, IAM
 * Credentials) on *.googleapis.com; the metadata server is reached by
 * gcp-metadata's own client, not this one.
 */
export function guardedTransporter(transport: CloudTransport, tokenUri: string, signal: AbortSignal, ambient: boolean): gaxios.Gaxios {
  const transporter = new gaxios.Gaxios({
    fetchImplementation: shieldedFetch as unknown as typeof fetch,
    agent: (url: URL) => transport.agent(url),
    signal,
    // node-fetch's own limit: counts the body as it arrives (gaxios' maxContentLength only reads Content-Length).
    size: MAX_RESPONSE_BYTES,
    retryConfig: {
      retry: MAX_RETRIES,
      noResponseRetries: MAX_RETRIES,
      shouldRetry: (err) => {
        if (signal.aborted || err.code === "GANTRY_SSRF_BLOCKED") return false;
        if ((err.config.retryConfig?.currentRetryAttempt ?? 0) >= MAX_RETRIES) return false;
        const status = err.response?.status;
        return status === undefined || status === 408 || status === 429 || status >= 500;
      },
    },
  });
  const allowedHost = new URL(tokenUri).host;
  transporter.interceptors.request.add({
    resolved: async (request) => {
      const url = new URL(request.url);
      let target: URL;
      if (url.href === tokenUri || url.href === LIBRARY_TOKEN_URL) target = new URL(tokenUri);
      else if (ambient && url.protocol === "https:" && url.hostname.endsWith(".googleapis.com")) target = url;
      else throw new CloudCredentialError("config", `Gantry does not send Google credentials to ${url.host}; only to ${allowedHost}.`);
      await guardIpLiteral(target, transport.agent(target));
      request.url = target;
      return request;
    },
  });
  return transporter;
}

/**
 * node-fetch (gaxios' fetch in Node), shielded from two uncaught exceptions
 * that would end the whole server when the deadline cuts a retry: on abort it
 * emits `error` on the bodies of responses it already returned (read whole, or
 * cut at the size limit), and on a request begun with an aborted signal it
 * destroys the request body with an error. Every response body gets a
 * listener (readers still see errors), and an aborted request is not begun.
 */
async function shieldedFetch(input: unknown, init: unknown): Promise<unknown> {
  // Started after the deadline (a retry): node-fetch would destroy the request body with an error nobody listens to.
  if ((init as { signal?: AbortSignal } | undefined)?.signal?.aborted) throw Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
  const { default: fetch } = await import("node-fetch");
  const res = await fetch(input as Parameters<typeof fetch>[0], init as Parameters<typeof fetch>[1]);
  res.body?.on("error", () => {});
  return res;
}

type Lookup = (host: string, options: { all: boolean }, callback: (err: Error | null) => void) => void;

/**
 * Node's net.connect skips the socket's `lookup` when the host is an IP literal,
 * so the SSRF guard inside transport.agent() never sees http://127.0.0.1/… or
 * http://[::1]/…. Run the agent's own guarded lookup on such a host first: the
 * same allowlist decides, nothing is connected when it refuses.
 */
export async function guardIpLiteral(url: URL, agent: Agent): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!net.isIP(host)) return;
  const lookup = (agent as Agent & { options?: { lookup?: Lookup } }).options?.lookup;
  if (!lookup) return;
  await new Promise<void>((resolve, reject) => lookup(host, { all: true }, (err) => (err ? reject(err) : resolve())));
}
