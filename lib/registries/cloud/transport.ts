import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import net from "node:net";
import { checkAddress, EMPTY_ALLOWLIST, guardedLookup, parseAllowlist, type Allowlist } from "@/lib/net/ssrf";
import type { CloudTransport } from "./types";

/** A whole token exchange (SDK retries included) must finish within this. */
export const CLOUD_TOKEN_TIMEOUT_MS = 20_000;

const agents = new Map<string, http.Agent>();

type ConnectionCallback = (err: Error | null, socket?: net.Socket) => void;

/**
 * Node calls an agent's `lookup` only for host names: a URL with an IP literal
 * (http://169.254.169.254/…) would connect without asking the guard. These
 * agents check a literal address before connecting, and refuse it through the
 * request's error event.
 */
function guardLiterals<T extends http.Agent>(agent: T, allow: Allowlist): T {
  const create = (agent as unknown as { createConnection: (o: { host?: string }, cb: ConnectionCallback) => net.Socket | undefined }).createConnection.bind(agent);
  (agent as unknown as { createConnection: unknown }).createConnection = (options: { host?: string }, cb: ConnectionCallback) => {
    const host = (options.host ?? "").replace(/^\[|\]$/g, "");
    if (net.isIP(host)) {
      try {
        checkAddress(host, host, allow);
      } catch (e) {
        cb(e as Error);
        return undefined;
      }
    }
    return create(options, cb);
  };
  return agent;
}

function agentOf(scheme: "http:" | "https:", allowed: string[], ca: string | undefined): http.Agent {
  const key = JSON.stringify([scheme, allowed, ca ?? ""]);
  let agent = agents.get(key);
  if (!agent) {
    const allow = allowed.length ? parseAllowlist(allowed) : EMPTY_ALLOWLIST;
    const lookup = guardedLookup(allow) as unknown as http.AgentOptions["lookup"];
    const options = { keepAlive: true, maxSockets: 16, timeout: CLOUD_TOKEN_TIMEOUT_MS, lookup };
    agent = guardLiterals(scheme === "https:" ? new https.Agent({ ...options, ...(ca ? { ca: [...tls.rootCertificates, ca] } : {}) }) : new http.Agent(options), allow);
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
