import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { distributionConfig } from "./distribution";
import { gcStorageBackend, readDistributionConfig } from "./gc-config";
import { loadSigningKey } from "./signing";

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-gc-config-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const write = (dir: string, text: string) => {
  const file = path.join(dir, "config.yml");
  fs.writeFileSync(file, text);
  return file;
};

describe("readDistributionConfig", () => {
  it("reads the embedded engine's config (JSON): loopback address, trusted certificate, filesystem blobs", () => {
    const dir = tmp();
    const file = write(dir, JSON.stringify(distributionConfig({ port: 41234, storage: path.join(dir, "storage"), secret: "s", certFile: path.join(dir, "token-signing.crt"), realm: "http://127.0.0.1/x" })));
    expect(readDistributionConfig(file)).toEqual({
      origin: "http://127.0.0.1:41234",
      trustedCert: path.join(dir, "token-signing.crt"),
      blobsDir: path.join(dir, "storage", "docker", "registry", "v2", "blobs"),
    });
  });

  it("reads an operator's YAML: a wildcard address is reached on loopback, TLS means https, S3 has no blobs directory, relative paths from the config's directory", () => {
    const dir = tmp();
    const file = write(dir, "version: 0.1\nstorage:\n  s3: { region: eu-west-1, bucket: b }\n  delete: { enabled: true }\nhttp:\n  addr: :5000\n  tls: { certificate: /etc/tls.crt, key: /etc/tls.key }\nauth:\n  token: { rootcertbundle: certs/gantry.crt }\n");
    expect(readDistributionConfig(file)).toEqual({ origin: "https://127.0.0.1:5000", trustedCert: path.join(dir, "certs", "gantry.crt"), blobsDir: null });
    const v6 = write(dir, "storage:\n  filesystem: {}\nhttp:\n  addr: '[::1]:5001'\n");
    expect(readDistributionConfig(v6)).toEqual({ origin: "http://[::1]:5001", trustedCert: null, blobsDir: "/var/lib/registry/docker/registry/v2/blobs" });
  });

  it("says what is wrong with a missing file or an address without a port", () => {
    expect(() => readDistributionConfig(path.join(tmp(), "none.yml"))).toThrow(/No registry config at .*start Gantry once/);
    expect(() => readDistributionConfig(write(tmp(), "http:\n  addr: localhost\n"))).toThrow(/is not host:port/);
  });
});

describe("gcStorageBackend", () => {
  it("signs with the key beside the certificate distribution trusts, and never generates one", async () => {
    const dir = tmp();
    const config = JSON.stringify(distributionConfig({ port: 41235, storage: path.join(dir, "storage"), secret: "s", certFile: path.join(dir, "token-signing.crt"), realm: "http://127.0.0.1/x" }));
    const file = write(dir, config);
    expect(() => gcStorageBackend({ configFile: file })).toThrow(/GANTRY_REGISTRY_TOKEN_KEY and GANTRY_REGISTRY_TOKEN_CERT/);
    expect(fs.existsSync(path.join(dir, "token-signing.key"))).toBe(false);

    loadSigningKey(dir); // the embedded engine's pair, as Gantry writes it
    const backend = gcStorageBackend({ configFile: file });
    expect(backend.origin()).toBe("http://127.0.0.1:41235");
    expect((await backend.tokens.token([])).split(".")).toHaveLength(3);
    expect(gcStorageBackend({ configFile: file, backendUrl: "http://10.0.0.5:5000/ignored" }).origin()).toBe("http://10.0.0.5:5000");
  });

  it("uses the operator's pair (GANTRY_REGISTRY_TOKEN_KEY/_CERT) and checks that the key is the certificate's", () => {
    const dir = tmp();
    const file = write(dir, "http:\n  addr: 127.0.0.1:5002\nauth:\n  token: { rootcertbundle: /etc/somewhere/else.crt }\n");
    const mine = path.join(dir, "mine");
    const other = path.join(dir, "other");
    loadSigningKey(mine);
    loadSigningKey(other);
    expect(gcStorageBackend({ configFile: file, signing: { keyFile: path.join(mine, "token-signing.key"), certFile: path.join(mine, "token-signing.crt") } }).origin()).toBe("http://127.0.0.1:5002");
    expect(() => gcStorageBackend({ configFile: file, signing: { keyFile: path.join(mine, "token-signing.key"), certFile: path.join(other, "token-signing.crt") } })).toThrow(/is not the certificate of/);
  });
});
