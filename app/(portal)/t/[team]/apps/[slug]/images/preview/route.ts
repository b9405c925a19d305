import { z } from "zod";
import { type NextRequest } from "next/server";
import { AppError } from "@/lib/errors";
import { sessionRoute } from "@/lib/http/session-route";
import { toAppError, errorBody } from "@/lib/http/map-error";
import { getCustomer, revealLicenseId } from "@/lib/licenses/customers";
import { previewSchema, runPreview } from "@/lib/rewrite/preview";
import { can } from "@/lib/teams/roles";

const body = z.object({
  files: previewSchema.shape.files,
  images: previewSchema.shape.images,
  customerId: z.string().max(100).optional(),
});

// POST /t/{team}/apps/{slug}/images/preview — the Images page's preview, streamed as NDJSON:
// one {"type":"image"} line per probe as it finishes, then {"type":"done"} with the files, or {"type":"error"}.
export const POST = sessionRoute<{ team: string; slug: string }>("app:view", async (ctx, params, request: NextRequest) => {
  let input: z.output<typeof body>;
  try {
    input = body.parse(await request.json());
  } catch (e) {
    throw e instanceof z.ZodError ? e : new AppError("BAD_REQUEST", "Send the preview as JSON.");
  }
  let licenseId: string | undefined;
  if (input.customerId) {
    if (!can(ctx.role, "license:view-secret")) throw new AppError("FORBIDDEN", "Only owners and admins can build a pull secret from a license.");
    const customer = await getCustomer(ctx.team.id, input.customerId);
    licenseId = await revealLicenseId(ctx.team.id, customer.license.id);
  }
  const encoder = new TextEncoder();
  // The browser going away (request aborted, or the stream cancelled) stops every probe.
  const abort = new AbortController();
  request.signal.addEventListener("abort", () => abort.abort(), { once: true });
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (obj: unknown) => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(`${JSON.stringify(obj)}\n`));
      };
      try {
        const preview = await runPreview(ctx, params.slug, { files: input.files, images: input.images, licenseId }, { onImage: (image) => send({ type: "image", image }), signal: abort.signal });
        send({ type: "done", images: preview.images, files: preview.files, summary: preview.summary, licensePicked: preview.licensePicked });
      } catch (e) {
        if (abort.signal.aborted) return;
        const err = toAppError(e, { route: "preview" });
        send({ type: "error", status: err.status, ...errorBody(err) });
      } finally {
        if (!abort.signal.aborted) controller.close();
      }
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" } });
});
