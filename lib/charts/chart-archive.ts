import "server-only";
import { gunzipSync } from "node:zlib";
import { gzipSync } from "fflate";
import * as tar from "tar-stream";
import { parse as parseYaml } from "yaml";

/**
 * Helm chart archives (.tgz as `helm package` writes them: one top directory
 * `<name>/` holding Chart.yaml, values.yaml, templates/…), read and written
 * entirely in memory: a chart comes from a vendor's push, so it is hostile
 * input until proven otherwise, and nothing of it ever touches the disk.
 */

export const CHART_LIMITS = {
  compressedBytes: 10 * 1024 * 1024,
  uncompressedBytes: 50 * 1024 * 1024,
  entries: 10_000,
} as const;

export type ChartArchiveErrorReason =
  | "too_large" // over a size or entry-count cap
  | "unsafe_entry" // absolute path, `..`, symlink, hard link, device, fifo, duplicate
  | "corrupt" // not gzip, not tar
  | "not_a_chart"; // no Chart.yaml, files outside the top directory, unusable Chart.yaml or values.yaml

export class ChartArchiveError extends Error {
  constructor(
    readonly reason: ChartArchiveErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "ChartArchiveError";
  }
}

export interface ChartMetadata {
  name: string;
  version: string;
  appVersion: string | null;
  description: string | null;
}

/** A file of the chart, its path relative to the top directory (e.g. `templates/deployment.yaml`). */
export interface ChartFile {
  path: string;
  data: Buffer;
}

export interface ChartArchive {
  /** The top directory's name (the chart's name when `helm package` wrote it). */
  root: string;
  /** Regular files in archive order; directory entries are dropped, as `helm package` writes none. */
  files: ChartFile[];
  metadata: ChartMetadata;
}

/**
 * The path of a tar entry split into its top directory and the rest, or a
 * ChartArchiveError when extracting it anywhere could escape the target
 * (absolute, `..`, backslashes that Windows tools read as separators, NUL).
 * A leading `./` (as `tar czf x.tgz ./chart` writes) is tolerated.
 */
export function splitEntryPath(name: string): { root: string; rest: string } {
  const show = JSON.stringify(name.slice(0, 200));
  if (name.includes("\0") || name.includes("\\")) throw new ChartArchiveError("unsafe_entry", `entry ${show}: NUL or backslash in a path`);
  if (name.startsWith("/")) throw new ChartArchiveError("unsafe_entry", `entry ${show}: absolute path`);
  const parts = name.replace(/^(\.\/)+/, "").replace(/\/$/, "").split("/");
  if (parts.some((p) => p === "..")) throw new ChartArchiveError("unsafe_entry", `entry ${show}: ".." in a path`);
  if (parts.some((p) => p === "" || p === ".")) throw new ChartArchiveError("unsafe_entry", `entry ${show}: empty or "." path segment`);
  const [root = "", ...rest] = parts;
  return { root, rest: rest.join("/") };
}

function gunzip(tgz: Buffer): Buffer {
  if (tgz.length > CHART_LIMITS.compressedBytes) {
    throw new ChartArchiveError("too_large", `chart archive is ${tgz.length} bytes, over the ${CHART_LIMITS.compressedBytes}-byte limit`);
  }
  try {
    // maxOutputLength stops inflating at the cap: a gzip bomb costs at most the cap in memory.
    return gunzipSync(tgz, { maxOutputLength: CHART_LIMITS.uncompressedBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ChartArchiveError("too_large", `chart archive unpacks to over ${CHART_LIMITS.uncompressedBytes} bytes`);
    }
    throw new ChartArchiveError("corrupt", `chart archive is not gzip: ${(e as Error).message}`);
  }
}

const REFUSED_TYPES = new Set(["link", "symlink", "character-device", "block-device", "fifo"]);

/** The entries of a tar (already bounded in size by gunzip), refusing anything but regular files and directories. */
function untar(tarBytes: Buffer): Promise<{ root: string; files: ChartFile[] }> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    const files: ChartFile[] = [];
    const seen = new Set<string>();
    let root: string | undefined;
    let entries = 0;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      reject(error instanceof ChartArchiveError ? error : new ChartArchiveError("corrupt", `chart archive is not a valid tar: ${(error as Error).message}`));
      extract.destroy();
    };
    extract.on("entry", (header, stream, next) => {
      try {
        if (++entries > CHART_LIMITS.entries) throw new ChartArchiveError("too_large", `chart archive has over ${CHART_LIMITS.entries} entries`);
        const type = header.type ?? "unknown";
        const show = JSON.stringify(header.name.slice(0, 200));
        if (REFUSED_TYPES.has(type)) throw new ChartArchiveError("unsafe_entry", `entry ${show}: ${type} entries are not allowed in a chart`);
        if (type !== "file" && type !== "directory") throw new ChartArchiveError("unsafe_entry", `entry ${show}: unsupported entry type ${type}`);
        const where = splitEntryPath(header.name);
        if (root !== undefined && where.root !== root) throw new ChartArchiveError("not_a_chart", `entry ${show} is outside the chart's top directory ${JSON.stringify(root)}`);
        root = where.root;
        if (type === "directory") {
          stream.resume();
          stream.on("end", () => next());
          return;
        }
        if (where.rest === "") throw new ChartArchiveError("not_a_chart", `entry ${show}: files must be inside the chart's top directory`);
        if (seen.has(where.rest)) throw new ChartArchiveError("unsafe_entry", `entry ${show} appears twice`);
        seen.add(where.rest);
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          files.push({ path: where.rest, data: Buffer.concat(chunks) });
          next();
        });
      } catch (e) {
        fail(e);
      }
    });
    extract.on("error", fail);
    extract.on("finish", () => {
      if (failed) return;
      if (root === undefined) fail(new ChartArchiveError("not_a_chart", "chart archive is empty"));
      else resolve({ root, files });
    });
    extract.end(tarBytes);
  });
}

function optionalString(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/**
 * Chart.yaml's fields. The failsafe schema reads every scalar as the string
 * written, so `appVersion: 1.10` stays "1.10" (Helm's own reading), not 1.1.
 */
export function parseChartYaml(text: string): ChartMetadata {
  let doc: unknown;
  try {
    doc = parseYaml(text, { schema: "failsafe", maxAliasCount: 100 });
  } catch (e) {
    throw new ChartArchiveError("not_a_chart", `Chart.yaml is not YAML: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new ChartArchiveError("not_a_chart", "Chart.yaml is not a map");
  const fields = doc as Record<string, unknown>;
  const name = optionalString(fields.name);
  const version = optionalString(fields.version);
  if (!name || !version) throw new ChartArchiveError("not_a_chart", "Chart.yaml lacks a name or a version");
  return { name, version, appVersion: optionalString(fields.appVersion), description: optionalString(fields.description) };
}

/** Reads and checks a chart archive: bounded, safe paths only, with a usable Chart.yaml in its top directory. */
export async function readChartArchive(tgz: Buffer): Promise<ChartArchive> {
  const { root, files } = await untar(gunzip(tgz));
  const chartYaml = files.find((f) => f.path === "Chart.yaml");
  if (!chartYaml) throw new ChartArchiveError("not_a_chart", `chart archive has no ${root}/Chart.yaml`);
  return { root, files, metadata: parseChartYaml(chartYaml.data.toString("utf8")) };
}

/** Name, version, app version and description from a chart archive's Chart.yaml. */
export async function readChartMetadata(tgz: Buffer): Promise<ChartMetadata> {
  return (await readChartArchive(tgz)).metadata;
}

/** A fixed time for every entry: the same files give the same archive, byte for byte. */
const FIXED_MTIME = new Date(0);

/**
 * A chart archive of these files under `root/`, deterministic byte for byte:
 * entries in the given order, mode 0644, uid/gid 0 without names, a fixed
 * mtime; gzip by fflate (pure JavaScript, so no zlib build changes the bytes)
 * at level 9 with no timestamp and no file name in its header.
 */
export async function writeChartArchive(root: string, files: ChartFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: Buffer) => chunks.push(c));
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  for (const f of files) {
    splitEntryPath(`${root}/${f.path}`);
    pack.entry({ name: `${root}/${f.path}`, size: f.data.length, mode: 0o644, mtime: FIXED_MTIME, uid: 0, gid: 0, uname: "", gname: "", type: "file" }, f.data);
  }
  pack.finalize();
  await done;
  return Buffer.from(gzipSync(Buffer.concat(chunks), { level: 9, mtime: 0 }));
}
