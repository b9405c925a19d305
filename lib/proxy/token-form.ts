import type { IncomingMessage } from "node:http";
import { ProxyError } from "./errors";

const TOKEN_FORM_LIMIT = 16 * 1024;

/**
 * The OAuth2 password grant of the distribution token spec (what containerd
 * sends): `grant_type=password&username=…&password=…&scope=a b`, as a form of
 * at most 16 KiB read within 10 s, turned into the Basic header a GET would
 * carry (the proxy's license, or the registry's login); scopes are space-separated.
 */
export async function readTokenForm(req: IncomingMessage): Promise<{ authorization: string; scopes: string[] }> {
  const type = String(req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new ProxyError(400, "UNSUPPORTED", "POST /v2/token takes an application/x-www-form-urlencoded form (OAuth2 password grant).");
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > TOKEN_FORM_LIMIT) throw new ProxyError(400, "UNSUPPORTED", "The token request is too large.");
  const chunks: Buffer[] = [];
  let total = 0;
  const deadline = setTimeout(() => req.destroy(), 10_000);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > TOKEN_FORM_LIMIT) throw new ProxyError(400, "UNSUPPORTED", "The token request is too large.");
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(deadline);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
  if (form.get("grant_type") !== "password") throw new ProxyError(400, "UNSUPPORTED", "Only the password grant is supported: send your login as username and password.");
  const password = form.get("password") ?? "";
  const username = form.get("username") ?? "";
  const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`, scopes };
}
