import type { Agent as HttpAgent } from "node:http";

/**
 * What a cloud registry kind mints from its long-lived identity: registry
 * credentials Gantry sends like a basic registry's username and password, and
 * when they stop working.
 */
export interface MintedCredentials {
  username: string;
  password: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Why minting failed, in words a vendor can act on ("AWS rejected the access
 * key: InvalidSignatureException"). `rejected`: the cloud refused the identity;
 * `unreachable`: its token API could not be reached or timed out; `protocol`:
 * it answered something that is not its API; `config`: the stored fields cannot
 * work (a key that is not JSON, a token_uri Gantry may not call).
 */
export class CloudCredentialError extends Error {
  override name = "CloudCredentialError";
  constructor(
    readonly kind: "rejected" | "unreachable" | "protocol" | "config",
    message: string,
  ) {
    super(message);
  }
}

/**
 * How a kind's SDK reaches its token API: every request goes through `agent(url)`,
 * a node agent whose DNS lookup is Gantry's SSRF guard. `timeoutMs` bounds each
 * whole token exchange.
 */
export interface CloudTransport {
  agent(url: URL): HttpAgent;
  timeoutMs: number;
}
