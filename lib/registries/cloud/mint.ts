import "server-only";
import { env } from "@/lib/env";
import type { CloudConfig } from "../kinds";
import { cloudTransport } from "./transport";
import { CloudCredentialError, type MintedCredentials } from "./types";

export interface CloudRegistry {
  id: string;
  kind: string;
  endpoint: string;
  apiHost: string;
  /** The identity: access key ID (ecr), client ID (acr). */
  username: string;
  config: CloudConfig;
}

/** The transport every kind's token API is reached through (operator endpoints may be private). */
export function defaultCloudTransport() {
  const config = env();
  return cloudTransport({
    operatorEndpoints: [config.cloud.ecrEndpoint, config.cloud.stsEndpoint, config.cloud.gcpTokenUri, config.cloud.azureAuthorityHost],
    allowedPrivateHosts: config.allowedPrivateHosts,
  });
}

/** Mints one registry's credentials from its stored identity (`secret`: undefined for ambient credentials). */
export async function mintFor(registry: CloudRegistry, secret: string | undefined): Promise<MintedCredentials> {
  if (registry.config.ambient && !env().cloud.ambientCredentials) {
    throw new CloudCredentialError("config", "This registry uses ambient cloud credentials, which the operator has turned off (GANTRY_CLOUD_AMBIENT_CREDENTIALS).");
  }
  void secret;
  throw new CloudCredentialError("config", `Registries of kind ${registry.kind} are not wired yet.`);
}
