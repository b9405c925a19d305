/**
 * App slugs appear in every proxied image path (/proxy/<slug>/…), so they are
 * global, short, and valid as one repository path component.
 */
export const SLUG_MIN = 3;
export const SLUG_MAX = 40;
const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Names that would collide with Gantry's own paths or read as something else. */
export const RESERVED_SLUGS = new Set([
  "proxy", "v2", "api", "admin", "auth", "login", "logout", "sign-in", "sign-up", "signin", "signup",
  "static", "assets", "public", "_next", "next", "www", "app", "apps", "team", "teams", "settings",
  "registry", "registries", "token", "tokens", "library", "gantry", "health", "healthz", "metrics",
  "docker", "oci", "default", "kube-system", "null", "undefined",
]);

export function slugProblem(slug: string): string | null {
  if (slug.length < SLUG_MIN || slug.length > SLUG_MAX) return `Use ${SLUG_MIN} to ${SLUG_MAX} characters.`;
  if (!SLUG_RE.test(slug)) return "Use lowercase letters, digits and single dashes, not at the start or end.";
  if (RESERVED_SLUGS.has(slug)) return `"${slug}" is reserved. Choose another slug.`;
  return null;
}

/** A slug suggestion from an app name (the vendor can edit it). */
export function suggestSlug(name: string): string {
  let s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, "");
  if (s.length < SLUG_MIN) s = `${s || "app"}-app`.slice(0, SLUG_MAX);
  if (RESERVED_SLUGS.has(s)) s = `${s}-app`;
  return s;
}
