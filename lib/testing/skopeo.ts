import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * skopeo as a customer runs it against Gantry (plain http on loopback):
 * `pull` copies an image (by tag or @digest) into a throwaway OCI layout and
 * returns the digest of the manifest it wrote; `listTags` is `skopeo list-tags`.
 * A refusal rejects with skopeo's own error text (the registry's message in it).
 */
export async function skopeoPull(reference: string, creds: string, opts: { all?: boolean } = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-skopeo-"));
  try {
    const digestFile = path.join(dir, "digest");
    const args = ["copy", "--quiet", "--src-tls-verify=false", "--src-creds", creds, "--digestfile", digestFile];
    if (opts.all) args.push("--all");
    await run("skopeo", [...args, `docker://${reference}`, `oci:${dir}/out:pulled`], { maxBuffer: 16 * 1024 * 1024 });
    return fs.readFileSync(digestFile, "utf8").trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function skopeoListTags(repository: string, creds: string): Promise<string[]> {
  const { stdout } = await run("skopeo", ["list-tags", "--tls-verify=false", "--creds", creds, `docker://${repository}`]);
  return ((JSON.parse(stdout) as { Tags: string[] | null }).Tags ?? []).slice().sort();
}
