/**
 * A vendor registry's host as a bounded metric label: the well-known public
 * registries by name, anything else "other". Registry ids and path names are
 * chosen by tenants (one label value each would be unbounded); a class still
 * tells an operator "Docker Hub is timing out" from "one vendor's own registry
 * is down" (the log line, with the registry id, says which).
 */
const CLASSES: [suffix: string, name: string][] = [
  ["docker.io", "docker.io"],
  ["ghcr.io", "ghcr.io"],
  ["quay.io", "quay.io"],
  ["gcr.io", "gcr.io"],
  ["pkg.dev", "pkg.dev"],
  ["public.ecr.aws", "ecr"],
  ["amazonaws.com", "ecr"],
  ["azurecr.io", "azurecr.io"],
  ["gitlab.com", "gitlab.com"],
  ["nvcr.io", "nvcr.io"],
  ["jfrog.io", "jfrog.io"],
];

export function registryClass(host: string | undefined): string {
  if (!host) return "unknown";
  const name = host.toLowerCase().replace(/:\d+$/, "");
  for (const [suffix, label] of CLASSES) if (name === suffix || name.endsWith(`.${suffix}`)) return label;
  return "other";
}
