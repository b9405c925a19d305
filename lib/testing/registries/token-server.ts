import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { importPKCS8, SignJWT } from "jose";
import { freePort } from "./ports";

export interface TokenRequestRecord {
  account: string | undefined;
  scopes: string[];
  authenticated: boolean;
  status: number;
}

export interface TokenServer {
  url: string;
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  requests(): TokenRequestRecord[];
  clearRequests(): void;
  stop(): Promise<void>;
}

/**
 * A Docker-Hub-style token server for distribution's `auth.token`: grants
 * anonymous pull on repositories under `publicPrefixes`, and every requested
 * action to users with the right Basic credentials. Tokens are ES256 JWTs
 * whose `x5c` header carries a self-signed certificate that distribution
 * trusts through `rootcertbundle`.
 */
export async function startTokenServer(opts: {
  dir: string;
  users: Record<string, string>;
  publicPrefixes: string[];
  host?: string;
  /** Checks credentials instead of `users` (a cloud stand-in's minted, expiring passwords). */
  accept?: (user: string, password: string) => boolean;
  /** Lifetime of the registry tokens it issues (default 300 s). */
  tokenTtlSeconds?: number;
}): Promise<TokenServer> {
  const ttl = opts.tokenTtlSeconds ?? 300;
  const keyFile = path.join(opts.dir, "token.key");
  const certFile = path.join(opts.dir, "token.crt");
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${keyFile}.ec`], { stdio: "ignore" });
  execFileSync("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", `${keyFile}.ec`, "-out", keyFile], { stdio: "ignore" });
  execFileSync("openssl", ["req", "-new", "-x509", "-key", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=gantry-test-token"], {
    stdio: "ignore",
  });
  const privateKey = await importPKCS8(fs.readFileSync(keyFile, "utf8"), "ES256");
  const der = new crypto.X509Certificate(fs.readFileSync(certFile)).raw.toString("base64");
  const service = "gantry-test-registry";
  const issuer = "gantry-test-issuer";
  const records: TokenRequestRecord[] = [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
    const auth = req.headers.authorization ?? "";
    let account: string | undefined;
    let authenticated = false;
    if (auth.startsWith("Basic ")) {
      const [user = "", pass = ""] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(/:(.*)/s);
      if (opts.accept ? !opts.accept(user, pass) : opts.users[user] === undefined || opts.users[user] !== pass) {
        records.push({ account: user, scopes, authenticated: false, status: 401 });
        res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="token"' });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
        return;
      }
      account = user;
      authenticated = true;
    }
    const access = scopes.flatMap((scope) => {
      const [type = "", ...rest] = scope.split(":");
      const actions = (rest.pop() ?? "").split(",").filter(Boolean);
      const name = rest.join(":");
      if (type !== "repository") return [];
      const granted = authenticated ? actions : actions.filter((a) => a === "pull" && opts.publicPrefixes.some((p) => name.startsWith(p)));
      return granted.length ? [{ type, name, actions: granted }] : [{ type, name, actions: [] as string[] }];
    });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c: [der] })
      .setIssuer(issuer)
      .setSubject(account ?? "")
      .setAudience(service)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + ttl)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    records.push({ account, scopes, authenticated, status: 200 });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, access_token: token, expires_in: ttl, issued_at: new Date(now * 1000).toISOString() }));
  });
  const port = await freePort();
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const url = `http://${host}:${port}`;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certFile,
    requests: () => [...records],
    clearRequests: () => void records.splice(0),
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
