import "server-only";
import { env } from "@/lib/env";
import type { CloudConfig } from "../kinds";
import { defaultHttpOptions } from "@/lib/registry-client/client";
import { mintAcrCredentials } from "./acr";
import { mintEcrCredentials } from "./ecr";
import { mintGarCredentials } from "./gar";
import { cloudTransport } from "./transport";
import { CloudCredentialError, type CloudTransport, type MintedCredentials } from "./types";

export interface CloudRegistry {
  id: string;
  kind: string;
  endpoint: string;
  apiHost: string;
  /** The identity: access key ID (ecr), client ID (acr). */
  username: string;
  config: CloudConfig;
}

let transportOverride: CloudTransport | undefined;

/** The transport every kind's token API is reached through (operator endpoints may be private). */
export function defaultCloudTransport(): CloudTransport {
  if (transportOverride) return transportOverride;
  const config = env();
  return cloudTransport({
    operatorEndpoints: [config.cloud.ecrEndpoint, config.cloud.stsEndpoint, config.cloud.gcpTokenUri, config.cloud.azureAuthorityHost],
    allowedPrivateHosts: config.allowedPrivateHosts,
  });
}

/** Tests whose stand-ins serve TLS with their own CA (production trusts NODE_EXTRA_CA_CERTS). */
export function setCloudTransportForTests(t: CloudTransport | undefined): void {
  transportOverride = t;
}

/** Mints one registry's credentials from its stored identity (`secret`: undefined for ambient credentials). */
export async function mintFor(registry: CloudRegistry, secret: string | undefined): Promise<MintedCredentials> {
  const { config } = registry;
  const ambient = config.ambient === true;
  if (ambient && !env().cloud.ambientCredentials) {
    throw new CloudCredentialError("config", "This registry uses ambient cloud credentials, which the operator has turned off (GANTRY_CLOUD_AMBIENT_CREDENTIALS).");
  }
  if (!ambient && !secret) throw new CloudCredentialError("config", "The registry's stored secret is missing; enter it again.");
  const transport = defaultCloudTransport();
  switch (registry.kind) {
    case "ecr":
      return mintEcrCredentials(
        {
          region: config.region ?? "",
          accessKeyId: ambient ? undefined : registry.username,
          roleArn: config.roleArn,
          externalId: config.externalId,
          ambient,
          secretAccessKey: secret,
        },
        transport,
        { sessionId: registry.id },
      );
    case "gar":
      return mintGarCredentials(ambient ? { ambient: true } : { serviceAccountKey: secret ?? "" }, transport);
    case "acr":
      return mintAcrCredentials(
        { tenantId: config.tenantId ?? "", clientId: ambient ? undefined : registry.username, ambient, clientSecret: secret },
        transport,
        { endpoint: registry.endpoint, http: defaultHttpOptions(env().allowedPrivateHosts) },
      );
    default:
      throw new CloudCredentialError("config", `Gantry does not know how to sign in to a registry of kind ${registry.kind}.`);
  }
}
