import "server-only";
import type { ServerResponse } from "node:http";
import { log } from "@/lib/log";
import { recordPull } from "@/lib/proxy/pull-log";
import { archiveRange } from "./archive-range";
import type { PlannedBundle } from "./bundle";

/**
 * The HTTP answer for a planned bundle: the whole archive or one range of it
 * (`Range`, with `If-Range` against the ETag so a resume never splices two
 * different bundles), always with Content-Length. Served by plain Node
 * (lib/airgap/http.ts), not a Next route handler: Next drops Content-Length
 * from route handlers' responses, and a 20 GB download needs it. Each
 * download is one row of the license's pull log, with the bytes it took,
 * written when the body ends: 200/206 complete, 499 left by the client, 500
 * cut by a failure.
 */
export interface BundleAnswer {
  status: number;
  headers: Record<string, string>;
  /** Null for HEAD and 416. */
  body: AsyncIterable<Buffer> | null;
}

export interface BundleRequestHeaders {
  method: string;
  range?: string | null;
  ifRange?: string | null;
  userAgent?: string | null;
}

export function bundleAnswer(plan: PlannedBundle, request: BundleRequestHeaders, clientIp: string | null): BundleAnswer {
  const method = request.method === "HEAD" ? "HEAD" : "GET";
  const answer = archiveRange(plan.archive.size, { range: request.range ?? null, ifRange: request.ifRange ?? null, etag: plan.etag });
  const common = {
    etag: plan.etag,
    "cache-control": "private, no-cache",
    "content-type": "application/x-tar",
    "content-disposition": `attachment; filename="${plan.fileName}"`,
  };
  if (answer.status === 416) return { status: 416, headers: { ...common, ...answer.headers }, body: null };
  const started = Date.now();
  let sent = 0;
  const record = (status: number) =>
    recordPull({
      teamId: plan.app.teamId,
      appId: plan.app.id,
      licenseId: plan.licenseRowId,
      repository: plan.app.slug,
      kind: "airgap",
      reference: plan.version,
      method,
      status,
      bytesSent: sent,
      durationMs: Date.now() - started,
      clientIp,
      userAgent: request.userAgent?.slice(0, 500) ?? null,
    });
  const headers = { ...common, ...answer.headers };
  // A HEAD takes no bytes: not a download, not in the pull log.
  if (method === "HEAD") return { status: answer.status, headers, body: null };
  const range = plan.archive.range(answer.start, answer.end);
  const body = (async function* () {
    // Until the last byte is handed over, a download that ends is one the client left (499, as nginx logs it).
    let status: number = 499;
    try {
      for await (const piece of range) {
        sent += piece.length;
        yield piece;
      }
      status = answer.status;
    } catch (e) {
      status = 500;
      log.warn("air-gap bundle stream failed", { app: plan.app.slug, version: plan.version, bytes: sent, error: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      record(status);
    }
  })();
  return { status: answer.status, headers, body };
}

/**
 * Writes an answer to a Node response with backpressure: the archive's next
 * piece is produced when the socket has drained the last. A failure
 * mid-stream destroys the response: the client sees fewer bytes than
 * Content-Length and resumes, never a complete-looking archive with a hole.
 * A client that leaves stops the archive (its open blobs are closed). A plain
 * write loop, not pipeline(Readable.from(…)): bench:airgap measured Gantry at
 * 1.7 CPU seconds per GB with it, 3.8 with the stream adapter.
 */
export async function writeAnswer(res: ServerResponse, answer: BundleAnswer): Promise<void> {
  res.writeHead(answer.status, answer.headers);
  if (!answer.body) {
    res.end();
    return;
  }
  try {
    for await (const piece of answer.body) {
      if (res.destroyed) break;
      if (!res.write(piece) && !res.destroyed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    if (!res.destroyed) res.end();
  } catch {
    // The archive failed (logged where it failed): cut the response short.
    res.destroy();
  }
}
