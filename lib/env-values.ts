import ipaddr from "ipaddr.js";
import { z } from "zod";

/*
 * Parsers of single environment values (lists, URLs, sizes), used by
 * lib/env.ts's schema. Nothing here reads process.env.
 */

/**
 * Hosts or CIDRs, comma-separated; each entry is checked here so a typo stops
 * start-up with a message instead of silently allowing or refusing hosts.
 */
export const hostList = (what: string) =>
  z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        const problem = hostEntryProblem(entry);
        if (problem) ctx.addIssue({ code: "custom", message: `"${entry}" is not ${what}: ${problem}` });
      }
    });

/**
 * DNS servers for Gantry's own lookups (custom-domain verification): a comma-separated
 * list of IP[:port] ("10.0.0.2", "127.0.0.1:5353", "[fd00::53]:53", "fd00::53"). IPs only:
 * node's Resolver takes no names. Empty: the system resolver.
 */
export const dnsServerList = z
  .string()
  .default("")
  .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
  .superRefine((entries, ctx) => {
    for (const entry of entries) {
      if (!dnsServerProblem(entry)) continue;
      ctx.addIssue({ code: "custom", message: `"${entry}" is not a DNS server: ${dnsServerProblem(entry)}` });
    }
  });

/** Why a DNS server entry is invalid, or null. */
export function dnsServerProblem(entry: string): string | null {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(entry);
  const v4 = /^([\d.]+)(?::(\d{1,5}))?$/.exec(entry);
  const [address, portText] = bracketed ? [bracketed[1] ?? "", bracketed[2]] : v4 ? [v4[1] ?? "", v4[2]] : [entry, undefined];
  if (!isFullIp(address)) return "write an IP address with an optional port (127.0.0.1:5353, [fd00::53]:53)";
  if (!bracketed && !v4 && !address.includes(":")) return "write an IP address";
  if (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65535)) return "the port must be 1-65535";
  return null;
}

/** An IP address written out in full (ipaddr.js alone also takes classful "10.0.0"). */
export function isFullIp(value: string): boolean {
  return value.includes(":") ? ipaddr.IPv6.isValid(value) : ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** Why an allowlist entry is invalid (a CIDR, an IP, or a host name), or null. */
export function hostEntryProblem(entry: string): string | null {
  if (entry.includes("/")) {
    const [address = "", bits = ""] = entry.split("/");
    const max = address.includes(":") ? 128 : 32;
    return isFullIp(address) && /^\d{1,3}$/.test(bits) && Number(bits) <= max ? null : "a CIDR must look like 10.0.0.0/8 or fd00::/8";
  }
  if (isFullIp(entry)) return null;
  if (/^[\d.]+$/.test(entry) || entry.includes(":")) return "not a valid IP address";
  return /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(entry) ? null : "expected a host name, an IP address or a CIDR";
}

/**
 * GANTRY_TRUST_PROXY: which X-Forwarded-For hops to believe. "false" (default):
 * none, the socket address is the client. "true": one reverse proxy (the socket
 * peer). A number N: N proxies in a chain. A comma list of CIDRs/IPs: the
 * proxies' addresses. The client is the right-most address that is not a
 * trusted proxy, so a client cannot choose its own address by sending the header.
 */
export type TrustedProxies = { kind: "none" } | { kind: "hops"; hops: number } | { kind: "cidrs"; cidrs: string[] };

export const trustProxy = z
  .string()
  .default("false")
  .transform((v, ctx): TrustedProxies => {
    const s = v.trim().toLowerCase();
    if (["", "false", "0", "no"].includes(s)) return { kind: "none" };
    if (["true", "yes"].includes(s)) return { kind: "hops", hops: 1 };
    if (/^\d{1,2}$/.test(s)) return { kind: "hops", hops: Number(s) };
    const cidrs = s.split(",").map((e) => e.trim()).filter(Boolean);
    for (const c of cidrs) {
      if (!isFullIp(c) && (!c.includes("/") || hostEntryProblem(c))) {
        ctx.addIssue({ code: "custom", message: `"${c}" is not true/false, a hop count or a CIDR/IP of a trusted proxy` });
        return z.NEVER;
      }
    }
    return { kind: "cidrs", cidrs };
  });

export const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host or host:port, without a scheme or path");

/**
 * A public URL: where people and clients reach one of Gantry's faces. Only a
 * scheme and a host[:port]: `host` is what Docker wants (image names, `docker
 * login`, dockerconfigjson keys), `scheme` says whether that host speaks TLS.
 */
export interface PublicUrl {
  scheme: "http" | "https";
  /** host[:port] as written, lowercased, without the scheme's default port. */
  host: string;
  /** `scheme://host`, no trailing slash. */
  origin: string;
}

const DEFAULT_PORTS = { http: "80", https: "443" } as const;

/** `scheme://host[:port]`; the port is dropped when it is the scheme's default. */
export function publicUrl(scheme: PublicUrl["scheme"], hostname: string, port?: string): PublicUrl {
  const host = port && port !== DEFAULT_PORTS[scheme] ? `${hostname}:${port}` : hostname;
  return { scheme, host, origin: `${scheme}://${host}` };
}

const URL_EXAMPLE = "e.g. https://pull.example.com or http://gantry.lab:3000";

/** Why a public URL is not `http(s)://host[:port]` (a trailing "/" tolerated), or the parsed URL. */
export function parsePublicUrl(value: string): PublicUrl | string {
  const v = value.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(v);
  if (!scheme) return `must start with http:// or https:// (${URL_EXAMPLE}); got "${v}"`;
  const s = scheme[1]!.toLowerCase();
  if (s !== "http" && s !== "https") return `must be an http:// or https:// URL, not ${s}:// (${URL_EXAMPLE})`;
  const rest = v.slice(scheme[0].length);
  const authority = /^[^/?#]*/.exec(rest)![0];
  const after = rest.slice(authority.length);
  if (authority.includes("@")) return "must not contain a user name or password";
  if (after.startsWith("?") || after.includes("?")) return `must not have a query string (only scheme and host[:port], ${URL_EXAMPLE})`;
  if (after.includes("#")) return `must not have a fragment (only scheme and host[:port], ${URL_EXAMPLE})`;
  if (after !== "" && after !== "/") return `must not have a path: only scheme and host[:port] (${URL_EXAMPLE}); got path "${after}"`;
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return `"${authority}" is not a host or host:port`;
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} is out of range (1-65535)`;
  return publicUrl(s, m[1]!.toLowerCase(), port === undefined ? undefined : String(Number(port)));
}

export const publicUrlVar = z.string().transform((v, ctx): PublicUrl => {
  const parsed = parsePublicUrl(v);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/** An http(s) URL of a service Gantry talks to (no credentials, query or fragment); returned without a trailing "/". */
export const serviceUrl = z.string().transform((v, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(v.trim());
  } catch {
    // reported below
  }
  const problem = !url
    ? `"${v}" is not a URL (e.g. http://127.0.0.1:5000)`
    : url.protocol !== "http:" && url.protocol !== "https:"
      ? `must be an http:// or https:// URL, not ${url.protocol}//`
      : url.username || url.password
        ? "must not contain a user name or password"
        : url.search || url.hash
          ? "must not have a query string or fragment"
          : null;
  if (problem || !url) {
    ctx.addIssue({ code: "custom", message: problem ?? "not a URL" });
    return z.NEVER;
  }
  return url.href.replace(/\/+$/, "");
});

export const port = z.coerce.number().int().min(1).max(65535);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A size in bytes: a plain number, or with a unit ("20GiB", "500 MB"); 0 is allowed where it means "off". */
export const byteSize = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
      const unit = SIZE_UNITS[(m?.[2] ?? "").toLowerCase()];
      if (!m || unit === undefined) {
        ctx.addIssue({ code: "custom", message: `"${v}" is not a size (bytes, or a number with KB/MB/GB/TB/KiB/MiB/GiB/TiB)` });
        return z.NEVER;
      }
      return Math.floor(Number(m[1]) * unit);
    });


/** A free-space floor: bytes ("2GiB") or a share of the volume ("5%"). */
export type DiskFloor = { kind: "bytes"; bytes: number } | { kind: "percent"; percent: number };

export const diskFloor = z.string().transform((v, ctx): DiskFloor => {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent < 100) return { kind: "percent", percent };
    ctx.addIssue({ code: "custom", message: `"${v}": a percentage must be below 100 %` });
    return z.NEVER;
  }
  const parsed = byteSize(0).safeParse(v);
  if (!parsed.success) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a size (e.g. 2GiB) or a percentage of the volume (e.g. 5%)` });
    return z.NEVER;
  }
  return { kind: "bytes", bytes: parsed.data };
});
