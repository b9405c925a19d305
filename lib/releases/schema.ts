import { z } from "zod";
import { notFound } from "@/lib/errors";
import { MAX_FILES, MAX_IMAGES } from "@/lib/rewrite/extract";
import { isValidVersion } from "./version";

const versionSchema = z
  .string()
  .trim()
  .refine(isValidVersion, "Use 1–64 letters, digits, dots, dashes, underscores or plus signs, starting with a letter or digit (e.g. 1.4.0).");

/** "linux/amd64", "linux/arm/v7": OCI's platform os/architecture[/variant], lowercase. */
export const PLATFORM_PATTERN = /^[a-z0-9]{1,32}\/[a-z0-9_]{1,32}(?:\/[a-z0-9]{1,32})?$/;

/** A new release: its version, notes, and the manifests as uploaded and/or a list of images. */
export const createReleaseSchema = z
  .object({
    version: versionSchema,
    notes: z.string().max(10_000, "At most 10,000 characters.").optional(),
    manifests: z.union([z.string(), z.array(z.string())]).optional(),
    files: z.array(z.object({ name: z.string().min(1).max(200), content: z.string() })).max(MAX_FILES).optional(),
    images: z.array(z.string().max(1024)).max(MAX_IMAGES, `At most ${MAX_IMAGES} images.`).optional(),
    /** The platforms of multi-arch images an air-gap bundle carries ("os/arch[/variant]"); none: every platform. */
    platforms: z
      .array(z.string().trim().regex(PLATFORM_PATTERN, 'Write a platform as os/arch or os/arch/variant, e.g. "linux/amd64".'))
      .max(20, "At most 20 platforms.")
      .optional(),
    /** Whether its air-gap bundles carry the public images too (default true). */
    airgapPublic: z.boolean().optional(),
    /** Helm charts on Gantry's registry: "<registry>/<app slug>/<chart>:<version>" (charts.ts). */
    charts: z.array(z.string().max(1024)).max(50, "At most 50 charts.").optional(),
  })
  .refine((v) => v.manifests !== undefined || v.files !== undefined || v.images !== undefined || (v.charts?.length ?? 0) > 0, { message: "Send manifests, files, images or charts.", path: ["manifests"] });

export type CreateReleaseInput = z.input<typeof createReleaseSchema>;

const stored = <T extends z.ZodType>(schema: T) => (json: string): z.output<T> => schema.parse(JSON.parse(json));

/** Readers for the JSON columns of Release and ReleaseImage. */
export const parseManifests = stored(z.array(z.object({ name: z.string(), content: z.string() })));
/** A stored list of strings: Release.imageList, Release.platforms. */
export const parseStrings = stored(z.array(z.string()));
export const parseImageList = parseStrings;
export const parseFiles = stored(z.array(z.object({ path: z.string(), content: z.string() })));
export const parseOccurrences = stored(
  z.array(z.object({ file: z.string(), document: z.number(), kind: z.string(), name: z.string(), container: z.string(), line: z.number().optional().nullable() })),
);

/**
 * Route params for /api/v1/apps/{slug}/releases/{version}/…: the version is a
 * URL-encoded label; one that is not a valid label names no release (404).
 */
export const releaseParams = z.object({
  slug: z.string().min(1).max(64),
  version: z.string().transform((v) => {
    let label = v;
    try {
      label = decodeURIComponent(v);
    } catch {
      throw notFound("Release");
    }
    if (!isValidVersion(label)) throw notFound("Release");
    return label;
  }),
});

/** ?license=<row id or fingerprint> of the installer and bundle routes. */
export const licenseQuery = z.object({ license: z.string().min(1, "Pass ?license=<license row id or fingerprint>.").max(200) });
