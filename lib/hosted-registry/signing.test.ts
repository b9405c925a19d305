import { execSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { libtrustKeyId, loadSigningKey, StorageTokens, STORAGE_ISSUER, STORAGE_SERVICE } from "./signing";

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-signing-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("the token signing key", () => {
  it("is generated once into the directory (key 0600) and reused", () => {
    const dir = tmp();
    const a = loadSigningKey(dir);
    const b = loadSigningKey(dir);
    expect(b.kid).toBe(a.kid);
    expect(fs.statSync(path.join(dir, "token-signing.key")).mode & 0o777).toBe(0o600);
    expect(new crypto.X509Certificate(fs.readFileSync(a.certFile)).subject).toContain("Gantry registry token signer");
  });

  it("takes an operator's key and certificate, and refuses a certificate of another key", () => {
    const own = loadSigningKey(tmp());
    const supplied = loadSigningKey(tmp(), { keyFile: path.join(path.dirname(own.certFile), "token-signing.key"), certFile: own.certFile });
    expect(supplied.kid).toBe(own.kid);
    const other = loadSigningKey(tmp());
    expect(() => loadSigningKey(tmp(), { keyFile: path.join(path.dirname(own.certFile), "token-signing.key"), certFile: other.certFile })).toThrow(/is not the certificate of/);
  });

  it("names the key as libtrust does (what distribution 2.8 matches a kid to), checked against openssl", () => {
    const key = loadSigningKey(tmp());
    const viaOpenssl = execSync(`openssl x509 -in ${key.certFile} -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32 -w0`, { encoding: "utf8" })
      .replace(/=+$/, "")
      .match(/.{4}/g)!
      .join(":");
    expect(key.kid).toBe(viaOpenssl);
    expect(libtrustKeyId(new crypto.X509Certificate(fs.readFileSync(key.certFile)).publicKey)).toBe(viaOpenssl);
  });

  it("signs RS256 storage tokens distribution accepts the shape of (string aud, kid, exp), reused until a minute before expiry", async () => {
    const key = loadSigningKey(tmp());
    const tokens = new StorageTokens(key);
    const access = [{ type: "repository" as const, name: "app/api", actions: ["pull"] }];
    const now = Date.now();
    const t = await tokens.token(access, now);
    expect(decodeProtectedHeader(t)).toMatchObject({ alg: "RS256", kid: key.kid });
    const claims = decodeJwt(t);
    expect(claims).toMatchObject({ iss: STORAGE_ISSUER, aud: STORAGE_SERVICE, access });
    expect(typeof claims.aud).toBe("string");
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(await tokens.token(access, now + 200_000)).toBe(t);
    expect(await tokens.token(access, now + 250_000)).not.toBe(t);
  });
});
