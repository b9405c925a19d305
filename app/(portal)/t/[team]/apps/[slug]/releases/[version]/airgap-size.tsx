import { bundleEstimate } from "@/lib/airgap/warm";
import { AppError } from "@/lib/errors";
import { bundleError } from "@/lib/airgap/errors";
import { humanBytes } from "@/lib/format/bytes";

/**
 * The release's air-gap bundle size, before anyone downloads it: every
 * manifest and blob of its images (public ones included), read from the
 * manifests (cached by the proxy, or fetched once). Streams in behind a
 * Suspense boundary: a slow registry delays this line, not the page.
 */
export async function AirgapSize({ teamId, appSlug, version }: { teamId: string; appSlug: string; version: string }) {
  const estimate = await bundleEstimate(teamId, appSlug, version, AbortSignal.timeout(20_000)).catch((e: unknown) => bundleError(e, { page: "air-gap size" }));
  if (estimate instanceof AppError) {
    return (
      <p className="text-sm text-red-700" data-testid="airgap-size-error" role="status">
        The bundle cannot be built now: {estimate.message}
      </p>
    );
  }
  return (
    <p className="text-sm text-zinc-700" data-testid="airgap-size">
      About <span className="font-medium text-zinc-900">{humanBytes(estimate.bytes)}</span> · {estimate.images} {estimate.images === 1 ? "image" : "images"}, {estimate.platforms}{" "}
      {estimate.platforms === 1 ? "platform image" : "platform images"}, {estimate.blobs} blobs
    </p>
  );
}
