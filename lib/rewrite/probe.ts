import { setTimeout } from "node:timers/promises";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { RegistryNetworkError } from "@/lib/registry-client/errors";
import type { HttpOptions } from "@/lib/registry-client/http";
import { apiHostFor, manifestReference, parseReference, ReferenceError, type ImageReference } from "@/lib/registry-client/reference";
import { TokenCache } from "@/lib/registry-client/token-cache";
import { pathNameFor } from "@/lib/registries/endpoint";
import { proxiedReference } from "./rewrite";

export const IMAGE_STATUSES = ["public", "private", "not_found", "rate_limited", "unreachable", "vendor_registry", "already_proxied", "invalid"] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export interface TeamRegistry {
  id: string;
  name: string;
  endpoint: string;
  apiHost: string;
  imageHost: string;
  pathName: string;
}

export interface ProbeResult {
  image: string;
  normalized: string | null;
  status: ImageStatus;
  /** Plain words: what the registry answered and what that means. */
  reason: string;
  httpStatus?: number;
  challengeError?: string;
  warning?: string;
  /** The proxied reference when the image is rewritten, else null. */
  rewritten: string | null;
  /** The manifest digest the registry answered with (Docker-Content-Digest), when it did. */
  digest?: string;
  registry?: { id: string; name: string; pathName: string } | null;
  /** A private image on a registry the team has not added: customers could not pull it. */
  missingRegistry?: boolean;
  /** Upstream requests this probe made (registry + token server). */
  requests: number;
}

export interface ProbeOptions {
  appSlug: string;
  proxyDomain: string;
  registryDomain: string | undefined;
  /** Other names of Gantry's proxy and registry for this team (its verified custom domains, Gantry's own hosts). */
  otherProxyHosts?: string[];
  otherRegistryHosts?: string[];
  /** How Gantry's own registry is named in release scopes (its canonical host's path name), for images on any of its names. */
  vendorRegistryPathName?: string;
  registries: TeamRegistry[];
  http?: HttpOptions;
  allowedPrivateHosts: string[];
  concurrency?: number;
  tokenCache?: TokenCache;
  reuseTokens?: boolean;
  /** 429 handling: retries, and the longest Retry-After honoured. */
  maxRetries?: number;
  maxRetryWaitMs?: number;
  /** http(s) scheme per registry host; hosts of team registries use their endpoint's scheme. */
  schemeFor?: (host: string) => "https" | "http";
  onResult?: (r: ProbeResult) => void;
  /** Stops probing when aborted (the browser went away): no new probe starts, running ones are cancelled. */
  signal?: AbortSignal;
}

const sameHost = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Probes each distinct image the way an anonymous installer would (HEAD with
 * the full Accept list, Bearer challenge followed with an anonymous token) and
 * classifies it. Runs `concurrency` probes at once, reuses tokens per registry
 * and scope, and reports each result as soon as it is known.
 */
export async function probeImages(images: string[], opts: ProbeOptions): Promise<ProbeResult[]> {
  const distinct = [...new Set(images)];
  const http = opts.http ?? defaultHttpOptions(opts.allowedPrivateHosts);
  const tokenCache = opts.tokenCache ?? new TokenCache();
  const clients = new Map<string, RegistryClient | RegistryNetworkError>();
  const results = new Array<ProbeResult>(distinct.length);

  const clientFor = (host: string): RegistryClient | RegistryNetworkError => {
    let c = clients.get(host);
    if (!c) {
      const team = opts.registries.find((r) => sameHost(r.apiHost, host));
      const scheme = team ? new URL(team.endpoint).protocol.replace(":", "") : (opts.schemeFor?.(host) ?? "https");
      try {
        c = new RegistryClient({ endpoint: `${scheme}://${host}`, http, tokenCache, reuseTokens: opts.reuseTokens });
      } catch (e) {
        if (!(e instanceof RegistryNetworkError)) throw e;
        c = e;
      }
      clients.set(host, c);
    }
    return c;
  };

  let next = 0;
  const worker = async () => {
    for (;;) {
      opts.signal?.throwIfAborted();
      const i = next++;
      if (i >= distinct.length) return;
      const image = distinct[i] ?? "";
      const result = await probeOne(image, opts, clientFor);
      results[i] = result;
      opts.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, distinct.length) }, worker));
  return results;
}

function registryOf(ref: ImageReference, registries: TeamRegistry[]) {
  return registries.find((r) => sameHost(r.imageHost, ref.domain) || sameHost(r.apiHost, ref.domain)) ?? null;
}

async function probeOne(image: string, opts: ProbeOptions, clientFor: (host: string) => RegistryClient | RegistryNetworkError): Promise<ProbeResult> {
  let ref: ImageReference;
  try {
    ref = parseReference(image);
  } catch (e) {
    if (e instanceof ReferenceError) return { image, normalized: null, status: "invalid", reason: `Not a valid image reference: it ${e.message}.`, rewritten: null, requests: 0 };
    throw e;
  }
  const base = { image, normalized: ref.normalized };
  if ([opts.proxyDomain, ...(opts.otherProxyHosts ?? [])].some((h) => sameHost(ref.domain, h))) {
    return { ...base, status: "already_proxied", reason: "Already points at this Gantry's proxy domain.", rewritten: null, requests: 0 };
  }
  if ([opts.registryDomain, ...(opts.otherRegistryHosts ?? [])].some((h) => h !== undefined && sameHost(ref.domain, h))) {
    const registry = opts.vendorRegistryPathName ? { registry: { id: "", name: "Gantry's registry", pathName: opts.vendorRegistryPathName } } : {};
    return { ...base, status: "vendor_registry", reason: "On your Gantry registry domain: kept as written; the pull secret still covers it.", rewritten: null, ...registry, requests: 0 };
  }
  const registry = registryOf(ref, opts.registries);
  const target = { proxyDomain: opts.proxyDomain, appSlug: opts.appSlug, pathName: registry?.pathName ?? pathNameFor(ref.domain) };
  const rewrite = () => proxiedReference(ref, target);
  const registryInfo = registry ? { id: registry.id, name: registry.name, pathName: registry.pathName } : null;
  const missing = registry
    ? {}
    : { missingRegistry: true, warning: `Add ${ref.domain} as a registry, or customers cannot pull this image through Gantry.` };

  const client = clientFor(apiHostFor(ref.domain));
  if (client instanceof RegistryNetworkError) return unreachable(base, client, registry, rewrite, 0);
  const before = client.requests;
  const count = () => client.requests - before;
  try {
    const retries = opts.maxRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      let m = await client.manifest(ref.path, manifestReference(ref), "HEAD", opts.signal);
      // Some registries do not implement HEAD on manifests: fall back to GET.
      if (m.status === 405 || m.status === 501) m = await client.manifest(ref.path, manifestReference(ref), "GET", opts.signal);
      const httpStatus = m.status;
      if (m.status === 200) {
        return { ...base, status: "public", reason: `The manifest loads anonymously (HTTP 200${m.mediaType ? `, ${m.mediaType}` : ""}): customers pull it directly.`, httpStatus, rewritten: null, ...(m.digest ? { digest: m.digest } : {}), registry: registryInfo, requests: count() };
      }
      if (m.status === 401 || m.status === 403) {
        const how = m.authError ? ` with error "${m.authError}"` : "";
        return {
          ...base,
          status: "private",
          reason: `Anonymous access is refused (HTTP ${m.status}${how}${m.challenge?.scheme === "bearer" ? " after the anonymous token flow" : ""}): rewritten to the proxy.`,
          httpStatus,
          challengeError: m.authError,
          rewritten: rewrite(),
          registry: registryInfo,
          requests: count(),
          ...missing,
        };
      }
      if (m.status === 404) {
        return { ...base, status: "not_found", reason: "The registry answered 404 to an anonymous request: the image or tag does not exist.", httpStatus, warning: "Kept as written. Is there a typo in the name or tag?", rewritten: null, registry: registryInfo, requests: count() };
      }
      if (m.status === 429 && attempt < retries) {
        const wait = Math.min((m.retryAfterSeconds ?? 1) * 1000, opts.maxRetryWaitMs ?? 5000);
        await setTimeout(wait, undefined, { signal: opts.signal });
        continue;
      }
      if (m.status === 429) {
        return { ...base, status: "rate_limited", reason: `The registry kept answering 429 (rate limited) after ${retries} retries.`, httpStatus, warning: "Kept as written; not classified. Preview again later.", rewritten: null, registry: registryInfo, requests: count() };
      }
      return { ...base, status: "unreachable", reason: `The registry answered HTTP ${m.status}.`, httpStatus, warning: "Kept as written; could not classify.", rewritten: null, registry: registryInfo, requests: count() };
    }
  } catch (e) {
    opts.signal?.throwIfAborted(); // an abort is not "unreachable": stop
    if (e instanceof RegistryNetworkError) return unreachable(base, e, registry, rewrite, count());
    throw e;
  }
}

function unreachable(
  base: { image: string; normalized: string },
  e: RegistryNetworkError,
  registry: TeamRegistry | null,
  rewrite: () => string,
  requests: number,
): ProbeResult {
  const words: Record<string, string> = { dns: "DNS lookup failed", tcp: "the TCP connection failed", tls: "the TLS handshake failed", timeout: "it timed out", blocked: "the SSRF guard blocked it", protocol: "it did not answer like a registry" };
  const reason = `Unreachable: ${words[e.kind] ?? e.kind} (${e.message})`;
  if (registry) {
    return { ...base, status: "unreachable", reason, warning: `Treated as private because ${registry.name} is one of your registries. Check it with Test connection.`, rewritten: rewrite(), registry: { id: registry.id, name: registry.name, pathName: registry.pathName }, requests };
  }
  return { ...base, status: "unreachable", reason, warning: "Kept as written; could not classify.", rewritten: null, registry: null, requests };
}
