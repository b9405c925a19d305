import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { EMPTY_ALLOWLIST, guardedLookup, parseAllowlist } from "@/lib/net/ssrf";
import type { CloudTransport } from "./types";

/** A whole token exchange (SDK retries included) must finish within this. */
export const CLOUD_TOKEN_TIMEOUT_MS = 20_000;

const agents = new Map<string, http.Agent>();

function agentOf(scheme: "http:" | "https:", allowed: string[], ca: string | undefined): http.Agent {
  const key = JSON.stringify([scheme, allowed, ca ?? ""]);
  let agent = agents.get(key);
  if (!agent) {
    const lookup = guardedLookup(allowed.length ? parseAllowlist(allowed) : EMPTY_ALLOWLIST) as unknown as http.AgentOptions["lookup"];
    const options = { keepAlive: true, maxSockets: 16, timeout: CLOUD_TOKEN_TIMEOUT_MS, lookup };
    agent = scheme === "https:" ? new https.Agent({ ...options, ...(ca ? { ca: [...tls.rootCertificates, ca] } : {}) }) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/**
 * The transport for cloud token APIs. Public addresses only, except hosts of
 * endpoints the operator configured (`operatorEndpoints`: AWS_ENDPOINT_URL_*,
 * GANTRY_GCP_TOKEN_URI, GANTRY_AZURE_AUTHORITY_HOST) when they are also in the
 * private allowlist: a stand-in on loopback in tests, a VPC endpoint in production.
 * A vendor can never point Gantry's credentials exchange at a private address.
 */
export function cloudTransport(opts: {
  operatorEndpoints: (string | undefined)[];
  allowedPrivateHosts: string[];
  timeoutMs?: number;
  /** A PEM CA trusted besides the system's, for tests' TLS stand-ins (production uses NODE_EXTRA_CA_CERTS). */
  extraCa?: string;
}): CloudTransport {
  const operatorHosts = new Set(opts.operatorEndpoints.filter((u): u is string => !!u).map((u) => new URL(u).host.toLowerCase()));
  return {
    timeoutMs: opts.timeoutMs ?? CLOUD_TOKEN_TIMEOUT_MS,
    agent(url: URL) {
      const scheme = url.protocol === "http:" ? "http:" : "https:";
      return agentOf(scheme, operatorHosts.has(url.host.toLowerCase()) ? opts.allowedPrivateHosts : [], opts.extraCa);
    },
  };
}
