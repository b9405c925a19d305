import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import forge from "node-forge";
import { SignJWT } from "jose";

/**
 * The key Gantry signs distribution's tokens with, and the certificate
 * distribution trusts (its `auth.token.rootcertbundle`: only this one).
 *
 * Generated once into the registry directory (RSA 2048, self-signed, 20 years;
 * node:crypto makes the key, node-forge the X.509 certificate), or supplied by
 * the operator (GANTRY_REGISTRY_TOKEN_KEY / _CERT: PEM files). distribution 2.8
 * finds the key by `kid`: the libtrust key ID of the certificate's public key.
 */
export interface TokenSigningKey {
  kid: string;
  certFile: string;
  privateKey: crypto.KeyObject;
}

const KEY_FILE = "token-signing.key";
const CERT_FILE = "token-signing.crt";

export function loadSigningKey(dir: string, supplied?: { keyFile: string; certFile: string }): TokenSigningKey {
  let keyFile: string;
  let certFile: string;
  if (supplied) {
    ({ keyFile, certFile } = supplied);
  } else {
    keyFile = path.join(dir, KEY_FILE);
    certFile = path.join(dir, CERT_FILE);
    if (!fs.existsSync(keyFile) || !fs.existsSync(certFile)) generate(dir, keyFile, certFile);
  }
  const privateKey = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const cert = new crypto.X509Certificate(fs.readFileSync(certFile));
  const certKey = cert.publicKey.export({ type: "spki", format: "der" });
  const ownKey = crypto.createPublicKey(privateKey).export({ type: "spki", format: "der" });
  if (!certKey.equals(ownKey)) throw new Error(`${certFile} is not the certificate of ${keyFile}`);
  if (privateKey.asymmetricKeyType !== "rsa") throw new Error(`${keyFile}: the token signing key must be RSA (RS256)`);
  return { kid: libtrustKeyId(cert.publicKey), certFile, privateKey };
}

function generate(dir: string, keyFile: string, certFile: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = `01${crypto.randomBytes(15).toString("hex")}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 20 * 365 * 86_400_000);
  const subject = [{ name: "commonName", value: "Gantry registry token signer" }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: "basicConstraints", cA: true }, { name: "keyUsage", digitalSignature: true, keyCertSign: true }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()), forge.md.sha256.create());
  // Write to temp names and rename: another process starting at the same moment never reads half a file.
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  const tmpCert = `${certFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmpKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  fs.writeFileSync(tmpCert, forge.pki.certificateToPem(cert), { mode: 0o644 });
  if (fs.existsSync(keyFile) && fs.existsSync(certFile)) {
    fs.rmSync(tmpKey);
    fs.rmSync(tmpCert);
    return;
  }
  fs.renameSync(tmpKey, keyFile);
  fs.renameSync(tmpCert, certFile);
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * libtrust's key ID (docker/libtrust util.go keyIDFromCryptoKey): SHA-256 of
 * the DER SubjectPublicKeyInfo, first 240 bits, base32 without padding, in 12
 * groups of 4 joined by ":". What distribution 2.8 matches a token's `kid` to.
 */
export function libtrustKeyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  const bytes = crypto.createHash("sha256").update(der).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(":");
}

export interface StorageAccess {
  type: "repository" | "registry";
  name: string;
  actions: string[];
}

export const STORAGE_ISSUER = "gantry";
export const STORAGE_SERVICE = "gantry-storage";
const STORAGE_TOKEN_SECONDS = 300;

/**
 * Tokens for distribution, one per access set, reused until a minute before
 * they expire (signing is cheap, but a pull sends dozens of requests).
 */
export class StorageTokens {
  readonly #key: TokenSigningKey;
  readonly #cache = new Map<string, { token: string; renewAt: number }>();
  constructor(key: TokenSigningKey) {
    this.#key = key;
  }

  async token(access: StorageAccess[], now = Date.now()): Promise<string> {
    const cacheKey = JSON.stringify(access);
    const hit = this.#cache.get(cacheKey);
    if (hit && hit.renewAt > now) return hit.token;
    const iat = Math.floor(now / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: this.#key.kid })
      .setIssuer(STORAGE_ISSUER)
      .setSubject("gantry")
      .setAudience(STORAGE_SERVICE)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + STORAGE_TOKEN_SECONDS)
      .setJti(crypto.randomUUID())
      .sign(this.#key.privateKey);
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(cacheKey, { token, renewAt: now + (STORAGE_TOKEN_SECONDS - 60) * 1000 });
    return token;
  }
}
