import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import type { GantryValues } from "./variant";

/**
 * Tar archives for tests, hostile ones included: tar-stream's packer writes
 * any name and entry type it is given, which is what an attacker's tool does.
 */
export interface RawEntry {
  name: string;
  data?: string | Buffer;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo" | "contiguous-file";
  linkname?: string;
}

export async function rawTar(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: Buffer) => chunks.push(c));
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  for (const e of entries) {
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    pack.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, size: data?.length ?? 0, mtime: new Date(0) }, data);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function rawTgz(entries: RawEntry[]): Promise<Buffer> {
  return gzipSync(await rawTar(entries));
}

export const CHART_YAML = `apiVersion: v2
name: acme
description: Acme's app
type: application
version: 1.2.0
appVersion: 1.10
`;

/** A minimal well-formed chart archive with these extra files (paths under acme/). */
export function chartTgz(extra: Record<string, string> = {}, chartYaml = CHART_YAML): Promise<Buffer> {
  return rawTgz([
    { name: "acme/Chart.yaml", data: chartYaml },
    { name: "acme/values.yaml", data: "# Vendor values.\nreplicaCount: 2\n" },
    { name: "acme/templates/deployment.yaml", data: "kind: Deployment\n" },
    ...Object.entries(extra).map(([name, data]) => ({ name: `acme/${name}`, data })),
  ]);
}

/** A license's values; the customer is named "yes", which YAML 1.1 reads as true unless quoted. */
export const GANTRY: GantryValues = {
  imagePullSecretName: "acme-pull",
  dockerconfigjson: Buffer.from('{"auths":{"pull.example.com":{"auth":"eA=="}}}').toString("base64"),
  license: { fingerprint: "ab:cd", customerName: "yes", type: "prod", expiresAt: null },
  images: { "quay.io/acme/api:1.2": "pull.example.com/acme/quay/acme/api:1.2", "docker.io/library/redis:7": "pull.example.com/acme/dockerhub/library/redis:7" },
  additionalNamespaces: ["monitoring", "*"],
};
