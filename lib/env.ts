import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

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

const booleanString = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .optional()
  .transform((v) => v === "true" || v === "1" || v === "yes");

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port, without a scheme or path");

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const envSchema = z.object({
  GANTRY_ENV: z.enum(["embedded", "production"]).default("embedded"),
  GANTRY_DATA_DIR: z.string().min(1).default("data"),
  DATABASE_URL: z.string().regex(/^file:/, "must be a file: URL (SQLite)").optional(),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Trust X-Forwarded-For from a reverse proxy in front of Gantry. Off by default: the socket address is used. */
  GANTRY_TRUST_PROXY: booleanString,
  /** host[:port] customers pull from; defaults to the address Gantry serves on. */
  GANTRY_PROXY_DOMAIN: hostPort.optional(),
  /** host[:port] of the vendor's own Gantry registry, if any. Images on it are never rewritten. */
  GANTRY_REGISTRY_DOMAIN: hostPort.optional(),
  /** Comma-separated hosts or CIDRs that the SSRF guard lets through (tests, local demos). */
  GANTRY_ALLOWED_PRIVATE_HOSTS: z.string().default(""),
  GANTRY_SIGNIN_MAX_PER_ACCOUNT: positiveInt(5),
  GANTRY_SIGNIN_MAX_PER_IP: positiveInt(30),
  GANTRY_SIGNIN_WINDOW_SECONDS: positiveInt(15 * 60),
  /** Key-encryption keys, `id:base64(32 bytes)` comma-separated; see lib/crypto. */
  GANTRY_KEKS: z.string().optional(),
  /** Which of GANTRY_KEKS wraps new data keys (optional with a single key). */
  GANTRY_KEK_CURRENT: z.string().optional(),
  /** Token realm hosts trusted with registry credentials beyond each registry's own host. */
  GANTRY_TRUSTED_REALM_HOSTS: z.string().default(""),
  GANTRY_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
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
  trustProxy: boolean;
  proxyDomain: string;
  proxyDomainIsExplicit: boolean;
  registryDomain: string | undefined;
  allowedPrivateHosts: string[];
  keks: { list: string; current: string | undefined } | undefined;
  trustedRealmHosts: string[];
  signIn: { maxPerAccount: number; maxPerIp: number; windowSeconds: number };
  logLevel: RawEnv["GANTRY_LOG_LEVEL"];
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
  const file = path.resolve(dataDir, name);
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
    warn(`Generated ${file}. Set the matching environment variable in production (see README, "Configuration").`);
    return value;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return fs.readFileSync(file, "utf8").trim();
    throw e;
  }
}

/** Parses an environment object. Pure apart from embedded-mode secret files. */
export function parseEnv(source: Record<string, string | undefined>, warn: (m: string) => void = console.warn): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const raw = result.data;
  const missing: string[] = [];
  if (raw.GANTRY_ENV === "production") {
    if (!raw.AUTH_SECRET) missing.push("AUTH_SECRET: required when GANTRY_ENV=production (e.g. `openssl rand -base64 33`)");
    if (!raw.DATABASE_URL) missing.push("DATABASE_URL: required when GANTRY_ENV=production");
    if (!raw.GANTRY_KEKS) missing.push("GANTRY_KEKS: required when GANTRY_ENV=production (id:base64 of 32 random bytes, e.g. `kek1:$(openssl rand -base64 32)`)");
  }
  if (missing.length) throw new EnvError(missing);

  const dataDir = path.resolve(raw.GANTRY_DATA_DIR);
  const authSecret =
    raw.AUTH_SECRET ??
    embeddedSecretFile(dataDir, "auth-secret", () => crypto.randomBytes(33).toString("base64url"), warn);
  const listenHost = raw.HOST === "0.0.0.0" || raw.HOST === "::" ? "127.0.0.1" : raw.HOST;

  return {
    mode: raw.GANTRY_ENV,
    dataDir,
    databaseUrl: raw.DATABASE_URL ?? `file:${path.join(dataDir, "gantry.db")}`,
    authSecret,
    host: raw.HOST,
    port: raw.PORT,
    trustProxy: raw.GANTRY_TRUST_PROXY,
    proxyDomain: raw.GANTRY_PROXY_DOMAIN ?? `${listenHost}:${raw.PORT}`,
    proxyDomainIsExplicit: raw.GANTRY_PROXY_DOMAIN !== undefined,
    registryDomain: raw.GANTRY_REGISTRY_DOMAIN,
    allowedPrivateHosts: raw.GANTRY_ALLOWED_PRIVATE_HOSTS.split(",").map((s) => s.trim()).filter(Boolean),
    keks: raw.GANTRY_KEKS ? { list: raw.GANTRY_KEKS, current: raw.GANTRY_KEK_CURRENT } : undefined,
    trustedRealmHosts: raw.GANTRY_TRUSTED_REALM_HOSTS.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean),
    signIn: {
      maxPerAccount: raw.GANTRY_SIGNIN_MAX_PER_ACCOUNT,
      maxPerIp: raw.GANTRY_SIGNIN_MAX_PER_IP,
      windowSeconds: raw.GANTRY_SIGNIN_WINDOW_SECONDS,
    },
    logLevel: raw.GANTRY_LOG_LEVEL,
    nodeEnv: raw.NODE_ENV,
  };
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
