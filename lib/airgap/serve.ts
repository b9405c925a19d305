import "server-only";
import { log } from "@/lib/log";
import { recordPull } from "@/lib/proxy/pull-log";
import { archiveRange } from "./archive-range";
import type { PlannedBundle } from "./bundle";

/**
 * The HTTP answer for a planned bundle: the whole archive or one range of it
 * (`Range`, with `If-Range` against the ETag so a resume never splices two
 * different bundles), Content-Length always, streamed with backpressure (the
 * next piece is produced only when the client has taken the last). Each
 * download is one row of the license's pull log, with the bytes it took,
 * written when the response ends (completed, cut, or abandoned).
 */
export function bundleResponse(plan: PlannedBundle, request: Request, who: { clientIp: string | null }): Response {
  const method = request.method === "HEAD" ? "HEAD" : "GET";
  const answer = archiveRange(plan.archive.size, { range: request.headers.get("range"), ifRange: request.headers.get("if-range"), etag: plan.etag });
  const common = {
    etag: plan.etag,
    "cache-control": "private, no-cache",
    "content-type": "application/x-tar",
    "content-disposition": `attachment; filename="${plan.fileName}"`,
    "x-content-type-options": "nosniff",
  };
  if (answer.status === 416) return new Response(null, { status: 416, headers: { ...common, ...answer.headers } });
  const headers = { ...common, ...answer.headers };
  const started = Date.now();
  let sent = 0;
  let logged = false;
  const logOnce = (status: number) => {
    if (logged) return;
    logged = true;
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
      clientIp: who.clientIp,
      userAgent: request.headers.get("user-agent")?.slice(0, 500) ?? null,
    });
  };
  if (method === "HEAD") {
    logOnce(answer.status);
    return new Response(null, { status: answer.status, headers });
  }
  const iterator = plan.archive.range(answer.start, answer.end)[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const step = await iterator.next();
          if (step.done) {
            logOnce(answer.status);
            controller.close();
            return;
          }
          sent += step.value.length;
          controller.enqueue(new Uint8Array(step.value.buffer, step.value.byteOffset, step.value.byteLength));
        } catch (e) {
          log.warn("air-gap bundle stream failed", { app: plan.app.slug, version: plan.version, bytes: sent, error: e instanceof Error ? e.message : String(e) });
          logOnce(500);
          controller.error(e);
        }
      },
      async cancel() {
        logOnce(answer.status);
        await iterator.return?.();
      },
    },
    // One piece in flight: the archive's producer reads ahead no more than that.
    { highWaterMark: 1 },
  );
  return new Response(body, { status: answer.status, headers });
}
