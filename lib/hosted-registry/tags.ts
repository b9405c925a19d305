import { ProxyError } from "@/lib/proxy/errors";
import type { Rights } from "./access";
import type { HostedName } from "./paths";
import { listTags, repositoryExists } from "./records";
import { json, logPull, storageError, type Ctx } from "./request";
import { callStorage, pullAccess, storageName } from "./storage";

/** tags/list: from Gantry's database (sorted, paginated with n/last and Link). */
function numberParam(url: URL, key: string): number | null {
  const raw = url.searchParams.get(key);
  if (raw === null) return null;
  if (!/^\d{1,6}$/.test(raw)) throw new ProxyError(400, "UNSUPPORTED", `${key} must be a non-negative integer.`);
  return Number(raw);
}

/** `only`: the tags a pinned license may see (its releases'), null for all. */
export async function serveTags(ctx: Ctx, rights: Rights, name: HostedName, only: ReadonlySet<string> | null = null): Promise<void> {
  if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new ProxyError(405, "UNSUPPORTED", "tags/list takes GET.", { allow: "GET, HEAD" });
  const n = numberParam(ctx.url, "n");
  const last = ctx.url.searchParams.get("last");
  const { tags, more } = await listTags(rights.app.id, name.repository, { n, last, only });
  if (tags.length === 0 && last === null && !(await repositoryExists(rights.app.id, name.repository)) && !(await storageHasRepository(ctx, rights, name))) {
    throw new ProxyError(404, "NAME_UNKNOWN", `No image ${name.full} on this registry.`);
  }
  const headers: Record<string, string> = {};
  if (more && n !== null) {
    const next = new URLSearchParams({ n: String(n), last: tags.at(-1) ?? "" });
    headers.link = `</v2/${name.full}/tags/list?${next.toString()}>; rel="next"`;
  }
  const body = { name: name.full, tags };
  logPull(ctx, rights, name, "tags", "", () => Buffer.byteLength(JSON.stringify(body)));
  json(ctx.res, 200, body, headers, ctx.method === "HEAD");
}

/**
 * Whether distribution knows the repository (it had manifests, all deleted since): its tag list
 * answers 200 then, 404 NAME_UNKNOWN for a repository that never had one. Its tags are not
 * Gantry's (Gantry's database is the truth), only its existence is asked.
 */
async function storageHasRepository(ctx: Ctx, rights: Rights, name: HostedName): Promise<boolean> {
  const store = storageName(rights.app.id, name.repository);
  const upstream = await callStorage(ctx.config.backend, { method: "GET", path: `/v2/${store}/tags/list?n=1`, access: pullAccess(store), signal: ctx.signal });
  if (upstream.statusCode === 404) {
    await upstream.body.dump();
    return false;
  }
  if (upstream.statusCode >= 400) throw await storageError(upstream, "tag list");
  await upstream.body.dump();
  return true;
}

