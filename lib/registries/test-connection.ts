import "server-only";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { recordActivity } from "@/lib/activity/record";
import { log } from "@/lib/log";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { formatBytes, RegistryNetworkError, ResponseTooLargeError } from "@/lib/registry-client/errors";
import { manifestReference, parseReference, ReferenceError } from "@/lib/registry-client/reference";
import type { TeamContext } from "@/lib/teams/access";
import { credentialSource, type CloudRegistryRow } from "./cloud/sources";
import { CloudCredentialError } from "./cloud/types";
import { getRegistryRow, registryCredentials } from "./registries";

export type TestOutcome = "ok" | "credentials_rejected" | "unreachable" | "blocked" | "unexpected";

export interface TestResult {
  ok: boolean;
  outcome: TestOutcome;
  /** Plain words for the vendor. */
  message: string;
  /** dns | tcp | tls | timeout, when unreachable. */
  failure?: string;
  manifest?: { image: string; status: number; mediaType?: string; digest?: string; size?: number; message: string };
}

const UNREACHABLE_WORDS: Record<string, string> = {
  dns: "the host name does not resolve (DNS)",
  tcp: "nothing accepts connections on that host and port (TCP)",
  tls: "the TLS handshake failed",
  timeout: "it did not answer in time (timeout)",
  protocol: "it did not answer like a container registry",
};

/** Maps an image given for the test to a repository on this registry. */
function repositoryFor(image: string, registry: { imageHost: string; apiHost: string }) {
  const ref = parseReference(image.includes("/") && /[.:]|^localhost/.test(image.split("/")[0] ?? "") ? image : `${registry.imageHost}/${image}`);
  if (ref.domain !== registry.imageHost && ref.domain !== registry.apiHost) {
    throw new ReferenceError(`is on ${ref.domain}, not on this registry (${registry.imageHost})`, image);
  }
  return { repository: ref.path, reference: manifestReference(ref), display: ref.normalized };
}

/**
 * Pings /v2/, follows the challenge with the stored credentials and says which
 * of these happened: the credentials work; they were rejected; the registry is
 * unreachable (DNS, TCP, TLS or timeout); or the SSRF guard blocked it. With an
 * image, also fetches that manifest with the credentials.
 */
export async function testConnection(ctx: TeamContext, registryId: string, image?: string): Promise<TestResult> {
  const registry = await getRegistryRow(ctx.team.id, registryId);
  const result = await runTest(ctx.team.id, registry, image);
  await db.$transaction(async (tx) => {
    const outcome = { lastTestedAt: new Date(), lastTestOutcome: result.outcome, lastTestMessage: result.message.slice(0, 500) };
    // A test result is not a change to the registry: updatedAt (the version its clients and its cloud
    // token are cached under) stays, so the proxy keeps the token the test just minted. Only when the
    // row is unchanged since it was read; after a concurrent edit the write bumps it as usual.
    const kept = await tx.registry.updateMany({ where: { id: registry.id, updatedAt: registry.updatedAt }, data: { ...outcome, updatedAt: registry.updatedAt } });
    if (kept.count === 0) await tx.registry.update({ where: { id: registry.id }, data: outcome });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "registry.tested",
      resourceType: "registry",
      resourceId: registry.id,
      metadata: { name: registry.name, outcome: result.outcome, ...(image ? { image } : {}) },
      ip: ctx.ip,
    });
  });
  return result;
}

const CLOUD_NAMES: Record<string, string> = { ecr: "Amazon ECR", gar: "Google Artifact Registry", acr: "Azure Container Registry" };
/** "an Amazon ECR token", "a Google Artifact Registry token". */
const TOKEN_OF: Record<string, string> = { ecr: "an Amazon ECR token", gar: "a Google Artifact Registry token", acr: "an Azure Container Registry token" };

/**
 * A cloud registry mints a fresh token for the test (the identity is checked
 * today, not an hour ago), into the source the proxy shares; its refusal is the
 * cloud's own words.
 */
async function cloudCredentials(teamId: string, registry: CloudRegistryRow): Promise<ReturnType<typeof credentialSource> | TestResult> {
  const source = credentialSource(teamId, registry);
  try {
    await source.refreshNow();
    return source;
  } catch (e) {
    if (!(e instanceof CloudCredentialError)) throw e;
    const message = `Gantry could not get ${TOKEN_OF[registry.kind] ?? "a registry token"}: ${e.message}`;
    const outcome = e.kind === "unreachable" ? "unreachable" : e.kind === "rejected" ? "credentials_rejected" : "unexpected";
    return { ok: false, outcome, message };
  }
}

async function runTest(teamId: string, registry: CloudRegistryRow & { imageHost: string }, image: string | undefined): Promise<TestResult> {
  let client: RegistryClient;
  let credentials;
  if (registry.kind === "basic") credentials = await registryCredentials(teamId, registry);
  else {
    const minted = await cloudCredentials(teamId, registry);
    if ("outcome" in minted) return minted;
    credentials = minted;
  }
  try {
    client = new RegistryClient({
      endpoint: registry.endpoint,
      credentials,
      http: defaultHttpOptions(env().allowedPrivateHosts),
      trustedRealmHosts: env().trustedRealmHosts,
    });
  } catch (e) {
    if (e instanceof RegistryNetworkError && e.kind === "blocked") return { ok: false, outcome: "blocked", message: e.message };
    throw e;
  }
  try {
    const auth = await client.checkAuth();
    if (auth.kind === "rejected") {
      return { ok: false, outcome: "credentials_rejected", message: `${registry.apiHost} is reachable, but it rejected the credentials (${auth.detail})` };
    }
    if (auth.kind === "unexpected") return { ok: false, outcome: "unexpected", message: `${registry.apiHost} is reachable, but ${auth.detail}` };
    const how =
      auth.scheme === "none"
        ? "it allows anonymous access"
        : `the ${registry.kind === "basic" ? "credentials" : `${CLOUD_NAMES[registry.kind] ?? registry.kind} token`} work${registry.kind === "basic" ? "" : "s"} (${auth.scheme === "basic" ? "Basic auth" : "token auth"})`;
    const result: TestResult = { ok: true, outcome: "ok", message: `${registry.apiHost} is reachable and ${how}.` };
    if (image) result.manifest = await testImage(client, registry, image);
    return result;
  } catch (e) {
    if (e instanceof ResponseTooLargeError) {
      return { ok: false, outcome: "unexpected", message: `${registry.apiHost} is reachable, but it sent ${e.what} over ${formatBytes(e.limitBytes)}; Gantry refused to read it.` };
    }
    if (e instanceof RegistryNetworkError) {
      // Messages name hosts as configured, never a resolved address (that is in the server log).
      if (e.kind === "blocked") return { ok: false, outcome: "blocked", message: /SSRF guard/.test(e.message) ? e.message : `Blocked by the SSRF guard: ${e.message}` };
      return {
        ok: false,
        outcome: "unreachable",
        failure: e.kind,
        message: `${registry.apiHost} is unreachable: ${UNREACHABLE_WORDS[e.kind] ?? e.kind}. ${e.message}`,
      };
    }
    log.error("test connection failed unexpectedly", { registryId: registry.id, error: e });
    return { ok: false, outcome: "unexpected", message: "The test failed unexpectedly; the error is in the server log." };
  }
}

async function testImage(client: RegistryClient, registry: { apiHost: string; imageHost: string }, image: string): Promise<NonNullable<TestResult["manifest"]>> {
  let target;
  try {
    target = repositoryFor(image, registry);
  } catch (e) {
    if (e instanceof ReferenceError) return { image, status: 0, message: `The image reference ${e.message}.` };
    throw e;
  }
  let m;
  try {
    m = await client.manifest(target.repository, target.reference, "GET");
  } catch (e) {
    if (e instanceof ResponseTooLargeError) {
      return { image: target.display, status: 0, message: `${target.display}: the registry sent ${e.what} over ${formatBytes(e.limitBytes)}; Gantry refused to read it.` };
    }
    throw e;
  }
  if (m.status === 200) {
    return { image: target.display, status: 200, mediaType: m.mediaType, digest: m.digest, size: m.size, message: `Found ${target.display}: ${m.mediaType ?? "unknown type"}, ${m.digest ?? "no digest header"}.` };
  }
  const why =
    m.status === 404 ? "not found (check the repository and tag)" : m.status === 401 || m.status === 403 ? "access denied for these credentials" : `answered ${m.status}`;
  return { image: target.display, status: m.status, message: `${target.display}: ${why}.` };
}
