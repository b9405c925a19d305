import type { GeneratedFiles } from "./generate";

/**
 * Where each generated installer file goes in a zip or a release's file list.
 * No runtime imports: the browser's preview and the server's releases share it.
 */
export const FILE_PATHS: Record<keyof GeneratedFiles, string> = {
  "kustomization.yaml": "overlays/midstream/kustomization.yaml",
  "secret.yaml": "overlays/midstream/secret.yaml",
  "pullsecrets.yaml": "overlays/midstream/pullsecrets.yaml",
  "helm-values.yaml": "helm-values.yaml",
};
