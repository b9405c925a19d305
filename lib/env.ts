import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { byteSize, diskFloor, dnsServerList, hostList, hostPort, port, positiveInt, publicUrl, publicUrlVar, serviceUrl, trustProxy, type DiskFloor, type PublicUrl, type TrustedProxies } from "./env-values";

export { hostEntryProblem, parsePublicUrl, publicUrl, type DiskFloor, type PublicUrl, type TrustedProxies } from "./env-values";

/**
 * The one place that reads `process.env`. Everything else imports `env()`.
 *
 * Gantry runs in one of two modes:
 * - `embedded` (default): one machine, SQLite under `data/`; secrets that are
 *   missing from the environment are generated once into files under the data
 *   directory, with a warning, so a fresh clone starts with no setup.
 * - `production`: every secret must come from the environment; start-up fails
 *   fast with a message naming what is missing.
 */

export const envSchema = z.object({
  GANTRY_ENV: z.enum(["embedded", "production"]).default("embedded"),
  GANTRY_DATA_DIR: z.string().min(1).default("data"),
  /** `file:` (SQLite, the embedded default) or `postgresql://` / `postgres://` (PostgreSQL through @prisma/adapter-pg). */
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/[^\s]+$)/i, "must be a file: URL (SQLite) or a postgresql:// URL (PostgreSQL)")
    .optional(),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(3000),
  /** Which X-Forwarded-For hops to trust (see TrustedProxies). Off by default: the socket address is used. */
  GANTRY_TRUST_PROXY: trustProxy,
  /** Where people open the portal: `http(s)://host[:port]`; defaults to the address Gantry serves on. */
  GANTRY_PUBLIC_URL: publicUrlVar.optional(),
  /** Where customers log in and pull (the registry proxy): `http(s)://host[:port]`; defaults to the address Gantry serves on. */
  GANTRY_PROXY_URL: publicUrlVar.optional(),
  /** Where the vendor's own Gantry registry is reached: `http(s)://host[:port]`. Images on it are never rewritten. */
  GANTRY_REGISTRY_URL: publicUrlVar.optional(),
  /** Deprecated: host[:port] customers pull from, over https; use GANTRY_PROXY_URL. */
  GANTRY_PROXY_DOMAIN: hostPort.optional(),
  /** Deprecated: host[:port] of the vendor's own registry, over https; use GANTRY_REGISTRY_URL. */
  GANTRY_REGISTRY_DOMAIN: hostPort.optional(),
  /** `off` disables Gantry's own registry entirely. */
  GANTRY_REGISTRY: z
    .string()
    .default("on")
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(["on", "off"], { message: 'must be "on" or "off"' })),
  /** A second port the registry also answers on, for setups without host routing. */
  GANTRY_REGISTRY_PORT: port.optional(),
  /** An operator-run distribution registry the registry stores in; unset: an embedded child process. */
  GANTRY_REGISTRY_BACKEND: serviceUrl.optional(),
  /** PEM files of the RSA key Gantry signs its registry storage's tokens with, and its certificate (both or neither). */
  GANTRY_REGISTRY_TOKEN_KEY: z.string().min(1).optional(),
  GANTRY_REGISTRY_TOKEN_CERT: z.string().min(1).optional(),
  /** Comma-separated hosts or CIDRs that the SSRF guard lets through (tests, local demos). */
  GANTRY_ALLOWED_PRIVATE_HOSTS: hostList("a host, IP or CIDR the SSRF guard may allow"),
  GANTRY_SIGNIN_MAX_PER_ACCOUNT: positiveInt(5),
  GANTRY_SIGNIN_MAX_PER_IP: positiveInt(30),
  GANTRY_SIGNIN_WINDOW_SECONDS: positiveInt(15 * 60),
  /** Requests a minute per API token, and per client address on /api/v1 (authenticated or not). */
  GANTRY_API_RATE_PER_TOKEN: positiveInt(600),
  GANTRY_API_RATE_PER_IP: positiveInt(1200),
  /** Rewrite previews (each probes up to 500 images) a minute per caller (user or token), and per client address. */
  GANTRY_PREVIEW_RATE_PER_CALLER: positiveInt(30),
  GANTRY_PREVIEW_RATE_PER_IP: positiveInt(60),
  /** Sign-ups an hour per client address. */
  GANTRY_SIGNUP_RATE_PER_IP: positiveInt(10),
  /** Key-encryption keys, `id:base64(32 bytes)` comma-separated; see lib/crypto. */
  GANTRY_KEKS: z.string().optional(),
  /** Which of GANTRY_KEKS wraps new data keys (optional with a single key). */
  GANTRY_KEK_CURRENT: z.string().optional(),
  /** Token realm hosts trusted with registry credentials beyond each registry's own host. */
  GANTRY_TRUSTED_REALM_HOSTS: hostList("a token-realm host"),
  /** DNS servers for custom-domain verification, IP[:port] comma-separated; unset: the system resolver. */
  GANTRY_DNS_SERVERS: dnsServerList,
  /** The proxy's content cache: its directory (default <data dir>/cache) and size (0 turns it off). */
  GANTRY_CACHE_DIR: z.string().min(1).optional(),
  GANTRY_CACHE_MAX_BYTES: byteSize(20 * 2 ** 30),
  /** How long after a tag was last seen upstream its digest is served while the upstream is down. */
  GANTRY_CACHE_STALE_TAG_SECONDS: z.coerce.number().int().min(0).default(7 * 24 * 3600),
  /** Cache fills (upstream blobs written to disk) at once, in all and per team; beyond them a blob streams through uncached. */
  GANTRY_CACHE_MAX_FILLS: positiveInt(64),
  GANTRY_CACHE_MAX_FILLS_PER_TEAM: positiveInt(16),
  /** Free space kept on the data volume: a size or a share of the volume ("5%"); default the larger of 5 % and 2 GiB. */
  GANTRY_MIN_FREE_DISK: diskFloor.optional(),
  /** Gantry's own registry: blob bytes per team (0: unlimited) and per blob. */
  GANTRY_REGISTRY_TEAM_QUOTA_BYTES: byteSize(50 * 2 ** 30),
  GANTRY_REGISTRY_MAX_BLOB_BYTES: byteSize(10 * 2 ** 30),
  /** Open upload sessions per principal (user, token) and per team. */
  GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL: positiveInt(20),
  GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM: positiveInt(100),
  /** Connections to the registry's storage one team's uploads may hold at once (reads have a pool of their own). */
  GANTRY_REGISTRY_WRITE_CONNECTIONS_PER_TEAM: positiveInt(16),
  /** Every stream (a blob from an upstream, an upload's body) must move at least this many bytes per window, or it is cut. */
  GANTRY_STREAM_FLOOR_BYTES: byteSize(32 * 1024),
  GANTRY_STREAM_FLOOR_SECONDS: positiveInt(30),
  /** A portal request must arrive whole within this (registry traffic is under the stream floor instead). */
  GANTRY_REQUEST_TIMEOUT_SECONDS: positiveInt(300),
  /** Any request's headers must arrive within this. */
  GANTRY_HEADERS_TIMEOUT_SECONDS: positiveInt(60),
  /** How many days pull events are kept (lib/retention/retention.ts purges older ones). */
  GANTRY_PULL_LOG_DAYS: positiveInt(90),
  /** On SIGTERM, how long in-flight requests (pulls) may take to finish before the process exits. */
  GANTRY_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).default(30),
  /** Tests that measure a hot path's cost: count every database query (lib/db.ts takeQueryLog). */
  GANTRY_COUNT_DB_QUERIES: z.enum(["0", "1"]).default("0"),
  GANTRY_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Prometheus metrics (/metrics) on a port of their own; never on the public port unless GANTRY_METRICS_TOKEN guards them. */
  GANTRY_METRICS_PORT: port.optional(),
  /** A bearer token /metrics requires (on the public port, or also on GANTRY_METRICS_PORT when both are set). */
  GANTRY_METRICS_TOKEN: z
    .string()
    .min(32, "must be at least 32 characters (e.g. `openssl rand -hex 32`)")
    .max(512, "must be at most 512 characters")
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces (a bearer token)")
    .optional(),
  /**
   * Cloud registries (lib/registries/cloud): `on` lets a registry use the SDK's ambient
   * credentials (instance role, IRSA, workload identity) instead of stored keys. Off by
   * default: on a shared Gantry any tenant could otherwise pull with the operator's identity.
   */
  GANTRY_CLOUD_AMBIENT_CREDENTIALS: z
    .string()
    .default("off")
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(["on", "off"], { message: 'must be "on" or "off"' })),
  /** The AWS SDK's own per-service endpoint overrides, honoured for ECR's and STS's APIs (tests, VPC endpoints). */
  AWS_ENDPOINT_URL_ECR: serviceUrl.optional(),
  AWS_ENDPOINT_URL_STS: serviceUrl.optional(),
  /** The one OAuth2 token endpoint a Google service-account key may name in its token_uri. */
  GANTRY_GCP_TOKEN_URI: serviceUrl.default("https://oauth2.googleapis.com/token"),
  /** Microsoft Entra's authority host for Azure service principals (sovereign clouds, tests). */
  GANTRY_AZURE_AUTHORITY_HOST: serviceUrl.default("https://login.microsoftonline.com"),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
});

export type RawEnv = z.infer<typeof envSchema>;

export interface Env {
  mode: RawEnv["GANTRY_ENV"];
  dataDir: string;
  databaseUrl: string;
  authSecret: string;
  host: string;
  port: number;
  /** True when any X-Forwarded-* hop is trusted (X-Forwarded-Proto is honoured then). */
  trustProxy: boolean;
  trustedProxies: TrustedProxies;
  /** Where each face of Gantry is reached from outside (GANTRY_PUBLIC_URL, GANTRY_PROXY_URL, GANTRY_REGISTRY_URL). */
  urls: { portal: PublicUrl; proxy: PublicUrl; registry: PublicUrl | undefined };
  /** urls.proxy.host: the host[:port] in image names, `docker login` and the proxy's token audience. */
  proxyDomain: string;
  /** urls.registry?.host: images on it are never rewritten. */
  registryDomain: string | undefined;
  /** Gantry's own registry (GANTRY_REGISTRY, GANTRY_REGISTRY_PORT, GANTRY_REGISTRY_BACKEND). */
  registry: {
    /** false: GANTRY_REGISTRY=off, no private registry at all. */
    enabled: boolean;
    /** A second port the registry also answers on, if any. */
    port: number | undefined;
    /** URL of an operator-run distribution; undefined: an embedded child process. */
    backend: string | undefined;
    /** <data dir>/registry */
    storageDir: string;
    /** Operator-supplied token signing key and certificate; undefined: generated in storageDir. */
    tokenSigning: { keyFile: string; certFile: string } | undefined;
    /** Blob bytes per team (0: unlimited), bytes per blob. */
    teamQuotaBytes: number;
    maxBlobBytes: number;
    /** Open upload sessions per principal and per team. */
    maxUploadsPerPrincipal: number;
    maxUploadsPerTeam: number;
    /** Storage connections one team's uploads may hold at once. */
    writeConnectionsPerTeam: number;
  };
  allowedPrivateHosts: string[];
  keks: { list: string; current: string | undefined } | undefined;
  trustedRealmHosts: string[];
  /** Servers custom-domain verification asks (GANTRY_DNS_SERVERS, node Resolver.setServers form); empty: the system's. */
  dnsServers: string[];
  signIn: { maxPerAccount: number; maxPerIp: number; windowSeconds: number };
  /** Request limits; counts per window, shared by every instance (in the database). */
  rateLimits: {
    apiPerToken: number;
    apiPerIp: number;
    previewPerCaller: number;
    previewPerIp: number;
    signUpPerIp: number;
  };
  /** The proxy's content cache (lib/cache); maxBytes 0: off. */
  cache: { dir: string; maxBytes: number; staleTagSeconds: number; maxFills: number; maxFillsPerTeam: number };
  /** Free space kept on the data volume (GANTRY_MIN_FREE_DISK); null: the larger of 5 % and 2 GiB. */
  minFreeDisk: DiskFloor | null;
  /** Request and stream deadlines. */
  http: { requestTimeoutMs: number; headersTimeoutMs: number; streamFloor: { windowMs: number; minBytes: number } };
  /** Days of pull events kept (GANTRY_PULL_LOG_DAYS). */
  pullLogDays: number;
  /** Seconds in-flight requests get to finish on SIGTERM (GANTRY_SHUTDOWN_GRACE_SECONDS). */
  shutdownGraceSeconds: number;
  countDbQueries: boolean;
  logLevel: RawEnv["GANTRY_LOG_LEVEL"];
  /**
   * Where /metrics is served (lib/observe): on its own port, or on the public port behind a
   * bearer token; null when neither is set (no /metrics at all).
   */
  metrics: { port: number | undefined; token: string | undefined } | null;
  /** Cloud registries' token APIs: ambient credentials allowed, and the endpoints each kind may call. */
  cloud: { ambientCredentials: boolean; ecrEndpoint: string | undefined; stsEndpoint: string | undefined; gcpTokenUri: string; azureAuthorityHost: string };
  nodeEnv: RawEnv["NODE_ENV"];
}

export class EnvError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid environment:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/** Reads (or creates once) a secret file in the data directory, for embedded mode. */
export function embeddedSecretFile(dataDir: string, name: string, create: () => string, warn: (m: string) => void): string {
  const file = path.resolve(/*turbopackIgnore: true*/ dataDir, name);
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = create();
  try {
    // "wx": never overwrite a secret another process wrote a moment ago.
    fs.writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
    warn(`Generated ${file}. Set the matching environment variable in production (see docs/operations.md, "Configuration").`);
    return value;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return fs.readFileSync(file, "utf8").trim();
    throw e;
  }
}

/** Parses an environment object. Pure apart from embedded-mode secret files. */
export function parseEnv(source: Record<string, string | undefined>, warn: (m: string) => void = console.warn): Env {
  // An empty variable counts as unset (`cp .env.example .env` leaves many empty).
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const raw = result.data;
  const problems: string[] = [];
  if (raw.GANTRY_ENV === "production") {
    if (!raw.AUTH_SECRET) problems.push("AUTH_SECRET: required when GANTRY_ENV=production (e.g. `openssl rand -base64 33`)");
    if (!raw.DATABASE_URL) problems.push("DATABASE_URL: required when GANTRY_ENV=production");
    if (!raw.GANTRY_KEKS) problems.push("GANTRY_KEKS: required when GANTRY_ENV=production (id:base64 of 32 random bytes, e.g. `kek1:$(openssl rand -base64 32)`)");
  }
  if (raw.GANTRY_REGISTRY_PORT !== undefined && raw.GANTRY_REGISTRY_PORT === raw.PORT) {
    problems.push(`GANTRY_REGISTRY_PORT: must differ from PORT (${raw.PORT}): it is a second port the registry answers on`);
  }
  if (raw.GANTRY_METRICS_PORT !== undefined && (raw.GANTRY_METRICS_PORT === raw.PORT || (raw.GANTRY_REGISTRY === "on" && raw.GANTRY_METRICS_PORT === registryPort(raw)))) {
    problems.push(`GANTRY_METRICS_PORT: must differ from PORT and the registry's port (${raw.GANTRY_METRICS_PORT} is taken)`);
  }
  if ((raw.GANTRY_REGISTRY_TOKEN_KEY === undefined) !== (raw.GANTRY_REGISTRY_TOKEN_CERT === undefined)) {
    problems.push("GANTRY_REGISTRY_TOKEN_KEY and GANTRY_REGISTRY_TOKEN_CERT: set both (the signing key and its certificate) or neither");
  }
  if (problems.length) throw new EnvError(problems);

  const dataDir = path.resolve(/*turbopackIgnore: true*/ raw.GANTRY_DATA_DIR);
  const authSecret =
    raw.AUTH_SECRET ??
    embeddedSecretFile(dataDir, "auth-secret", () => crypto.randomBytes(33).toString("base64url"), warn);
  const listenHost = raw.HOST === "0.0.0.0" || raw.HOST === "::" ? "127.0.0.1" : raw.HOST;
  const urls = publicUrls(raw, listenHost, warn);

  return {
    mode: raw.GANTRY_ENV,
    dataDir,
    databaseUrl: raw.DATABASE_URL ?? `file:${path.join(dataDir, "gantry.db")}`,
    authSecret,
    host: raw.HOST,
    port: raw.PORT,
    trustProxy: raw.GANTRY_TRUST_PROXY.kind !== "none",
    trustedProxies: raw.GANTRY_TRUST_PROXY,
    urls,
    proxyDomain: urls.proxy.host,
    registryDomain: urls.registry?.host,
    registry: {
      enabled: raw.GANTRY_REGISTRY === "on",
      port: raw.GANTRY_REGISTRY === "off" ? undefined : registryPort(raw),
      backend: raw.GANTRY_REGISTRY_BACKEND,
      storageDir: path.join(dataDir, "registry"),
      tokenSigning:
        raw.GANTRY_REGISTRY_TOKEN_KEY && raw.GANTRY_REGISTRY_TOKEN_CERT ? { keyFile: path.resolve(/*turbopackIgnore: true*/ raw.GANTRY_REGISTRY_TOKEN_KEY), certFile: path.resolve(/*turbopackIgnore: true*/ raw.GANTRY_REGISTRY_TOKEN_CERT) } : undefined,
      teamQuotaBytes: raw.GANTRY_REGISTRY_TEAM_QUOTA_BYTES,
      maxBlobBytes: raw.GANTRY_REGISTRY_MAX_BLOB_BYTES,
      maxUploadsPerPrincipal: raw.GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL,
      maxUploadsPerTeam: raw.GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM,
      writeConnectionsPerTeam: raw.GANTRY_REGISTRY_WRITE_CONNECTIONS_PER_TEAM,
    },
    allowedPrivateHosts: raw.GANTRY_ALLOWED_PRIVATE_HOSTS,
    keks: raw.GANTRY_KEKS ? { list: raw.GANTRY_KEKS, current: raw.GANTRY_KEK_CURRENT } : undefined,
    trustedRealmHosts: raw.GANTRY_TRUSTED_REALM_HOSTS.map((s) => s.toLowerCase()),
    dnsServers: raw.GANTRY_DNS_SERVERS,
    signIn: {
      maxPerAccount: raw.GANTRY_SIGNIN_MAX_PER_ACCOUNT,
      maxPerIp: raw.GANTRY_SIGNIN_MAX_PER_IP,
      windowSeconds: raw.GANTRY_SIGNIN_WINDOW_SECONDS,
    },
    rateLimits: {
      apiPerToken: raw.GANTRY_API_RATE_PER_TOKEN,
      apiPerIp: raw.GANTRY_API_RATE_PER_IP,
      previewPerCaller: raw.GANTRY_PREVIEW_RATE_PER_CALLER,
      previewPerIp: raw.GANTRY_PREVIEW_RATE_PER_IP,
      signUpPerIp: raw.GANTRY_SIGNUP_RATE_PER_IP,
    },
    cache: {
      dir: path.resolve(/*turbopackIgnore: true*/ raw.GANTRY_CACHE_DIR ?? path.join(dataDir, "cache")),
      maxBytes: raw.GANTRY_CACHE_MAX_BYTES,
      staleTagSeconds: raw.GANTRY_CACHE_STALE_TAG_SECONDS,
      maxFills: raw.GANTRY_CACHE_MAX_FILLS,
      maxFillsPerTeam: raw.GANTRY_CACHE_MAX_FILLS_PER_TEAM,
    },
    minFreeDisk: raw.GANTRY_MIN_FREE_DISK ?? null,
    http: {
      requestTimeoutMs: raw.GANTRY_REQUEST_TIMEOUT_SECONDS * 1000,
      headersTimeoutMs: raw.GANTRY_HEADERS_TIMEOUT_SECONDS * 1000,
      streamFloor: { windowMs: raw.GANTRY_STREAM_FLOOR_SECONDS * 1000, minBytes: Math.max(1, raw.GANTRY_STREAM_FLOOR_BYTES) },
    },
    pullLogDays: raw.GANTRY_PULL_LOG_DAYS,
    shutdownGraceSeconds: raw.GANTRY_SHUTDOWN_GRACE_SECONDS,
    countDbQueries: raw.GANTRY_COUNT_DB_QUERIES === "1",
    logLevel: raw.GANTRY_LOG_LEVEL,
    cloud: {
      ambientCredentials: raw.GANTRY_CLOUD_AMBIENT_CREDENTIALS === "on",
      ecrEndpoint: raw.AWS_ENDPOINT_URL_ECR,
      stsEndpoint: raw.AWS_ENDPOINT_URL_STS,
      gcpTokenUri: raw.GANTRY_GCP_TOKEN_URI,
      azureAuthorityHost: raw.GANTRY_AZURE_AUTHORITY_HOST,
    },
    metrics: raw.GANTRY_METRICS_PORT !== undefined || raw.GANTRY_METRICS_TOKEN !== undefined ? { port: raw.GANTRY_METRICS_PORT, token: raw.GANTRY_METRICS_TOKEN } : null,
    nodeEnv: raw.NODE_ENV,
  };
}

/**
 * The public URLs. A deprecated GANTRY_*_DOMAIN meant https on that host (Gantry
 * sent https realms for it), so it becomes `https://<value>`, kept as written
 * (case and port) so image names, pull secrets and token audiences of existing
 * installs do not change. The URL variable wins over its deprecated domain.
 */
function publicUrls(raw: RawEnv, listenHost: string, warn: (m: string) => void): Env["urls"] {
  const fromDomain = (domain: string | undefined, url: PublicUrl | undefined, oldName: string, newName: string): PublicUrl | undefined => {
    if (domain === undefined) return url;
    if (url) {
      warn(`${oldName} is deprecated and ignored because ${newName} is set (${url.origin}); remove ${oldName}.`);
      return url;
    }
    warn(`${oldName} is deprecated: set ${newName}=https://${domain} (or http://${domain} for plain http) instead. Read as https://${domain}.`);
    return { scheme: "https", host: domain, origin: `https://${domain}` };
  };
  const local = (p: number) => publicUrl("http", listenHost, String(p));
  const proxy = fromDomain(raw.GANTRY_PROXY_DOMAIN, raw.GANTRY_PROXY_URL, "GANTRY_PROXY_DOMAIN", "GANTRY_PROXY_URL") ?? local(raw.PORT);
  let registry = fromDomain(raw.GANTRY_REGISTRY_DOMAIN, raw.GANTRY_REGISTRY_URL, "GANTRY_REGISTRY_DOMAIN", "GANTRY_REGISTRY_URL");
  // Neither a URL nor a port: the embedded default answers on the next port (3001 next to 3000).
  registry ??= local(registryPort(raw) ?? raw.PORT + 1);
  if (raw.GANTRY_REGISTRY === "off") {
    const ignored = (["GANTRY_REGISTRY_URL", "GANTRY_REGISTRY_DOMAIN", "GANTRY_REGISTRY_PORT", "GANTRY_REGISTRY_BACKEND"] as const).filter((k) => raw[k] !== undefined);
    if (ignored.length) warn(`GANTRY_REGISTRY=off: ${ignored.join(", ")} ${ignored.length === 1 ? "is" : "are"} ignored.`);
    registry = undefined;
  }
  return { portal: raw.GANTRY_PUBLIC_URL ?? local(raw.PORT), proxy, registry };
}

/**
 * The port the registry answers on besides host routing: GANTRY_REGISTRY_PORT,
 * or PORT + 1 when the registry has no URL of its own (the embedded default).
 */
function registryPort(raw: RawEnv): number | undefined {
  if (raw.GANTRY_REGISTRY_PORT !== undefined) return raw.GANTRY_REGISTRY_PORT;
  if (raw.GANTRY_REGISTRY_URL === undefined && raw.GANTRY_REGISTRY_DOMAIN === undefined) return raw.PORT + 1;
  return undefined;
}

let cached: Env | undefined;

/** The validated environment of this process, parsed once. Throws EnvError when invalid. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** For tests only: forget the parsed environment. */
export function resetEnvForTests(): void {
  cached = undefined;
}
