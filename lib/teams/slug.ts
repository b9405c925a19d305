import crypto from "node:crypto";

/** A URL segment from a display name: lowercase letters, digits and single dashes. */
export function slugify(name: string, maxLength = 40): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/g, "");
  return base || "team";
}

/** The slug with a short random suffix, for when the plain one is taken. */
export function withSuffix(slug: string, maxLength = 40): string {
  const suffix = crypto.randomBytes(3).toString("hex");
  return `${slug.slice(0, maxLength - suffix.length - 1).replace(/-+$/g, "")}-${suffix}`;
}
