/** The kinds of registry Gantry signs in to (no imports: the browser's form uses it too). */
export const REGISTRY_KINDS = ["basic", "ecr", "gar", "acr"] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

export const KIND_LABELS: Record<RegistryKind, string> = {
  basic: "Username and password (Docker Hub, quay.io, GHCR, Artifactory, Harbor…)",
  ecr: "Amazon ECR (access key, optional role)",
  gar: "Google Artifact Registry / Container Registry (service-account key)",
  acr: "Azure Container Registry (service principal)",
};

/** The kind's short name: "Amazon ECR". */
export function kindName(kind: RegistryKind): string {
  return KIND_LABELS[kind].replace(/ \(.*$/, "");
}
