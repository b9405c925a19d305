import "server-only";
import { humanBytes } from "@/lib/format/bytes";
import { chartRelease, checkBundleInput, oneLine, type PushScriptInput } from "./bundle-input";

/** Free text inside Markdown: one line, and nothing Markdown or HTML reads as markup. */
const md = (text: string) => oneLine(text).replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => `\\${c}`);

/** README.md at the bundle's root: what it is, what is inside, and the three steps to install it offline. */
export function bundleReadme(input: PushScriptInput & { customerName: string; bundleBytes?: number }): string {
  checkBundleInput(input);
  const dir = `${input.appSlug}-${input.version}`;
  const title = `${md(input.appName)} ${input.version}`;
  const size = input.bundleBytes !== undefined ? ` (${humanBytes(input.bundleBytes)})` : "";
  const chart = input.charts[0];
  const images = input.images.map((i) => `| \`${i.source}\` | \`REGISTRY/${i.target}:${i.tag}\` | \`${i.digest}\` |`);
  const charts = input.charts.map((c) => `- \`charts/${c.file}\`: ${md(c.name)} ${c.version}`);
  return `# ${title}: air-gap bundle

Built by Gantry for ${md(input.customerName)}. This one file${size} holds everything
needed to install ${title} on a cluster with no route to the internet: every
container image of the release, ${input.charts.length ? "its Helm charts, " : ""}its
Kubernetes manifests, and a script that copies the images into your own registry.

## What is inside \`${dir}/\`

- \`images/\`: an OCI image layout (\`oci-layout\`, \`index.json\`, \`blobs/sha256/\`)
  with the ${input.images.length} image(s) below; multi-platform images keep the platforms the release ships (\`images.json\` lists them).
${input.charts.length ? `- \`charts/\`: the Helm chart(s):\n${charts.map((c) => `  ${c}`).join("\n")}\n` : ""}- \`manifests/\`: the release's Kubernetes manifests and a \`kustomization.yaml\` listing them.
- \`images.json\`: the release's images, machine-readable.
- \`push.sh\`: copies the images into your registry and writes the install files for it.
- \`README.md\`: this file.

## Requirements

On the machine that pushes (it needs the bundle and a route to your registry, nothing else):
- **skopeo 1.9 or later** (\`apt-get install skopeo\`, \`dnf install skopeo\`, \`brew install skopeo\`);
- **bash** and \`sha256sum\` (or \`shasum\`), \`tar\`.

To install: \`kubectl\` (it includes kustomize)${chart ? " or Helm 3+" : ""}, with access to the cluster.
The cluster's nodes must be able to pull from your registry.

## 1. Check and unpack

\`\`\`sh
tar -tf BUNDLE.tar > /dev/null    # optional: reads the whole archive, a truncated download fails here
tar -xf BUNDLE.tar
cd ${dir}
\`\`\`

\`push.sh\` checks every image it pushes against the digests in the table below, which
\`images/index.json\` records.

An interrupted download resumes where it stopped (the server honours \`Range\`). Pass the
first download's \`ETag\` header as \`If-Range\`: if the bundle changed meanwhile (the
vendor edited the release or your license), curl stops (exit 33) instead of joining two
different archives, and you download it again from the start:

\`\`\`sh
curl -C - -H 'If-Range: "sha256:…"' -o BUNDLE.tar 'DOWNLOAD-URL'
\`\`\`

## 2. Push the images into your registry

\`\`\`sh
./push.sh registry.internal:5000/${input.appSlug}
\`\`\`

The argument is \`host[:port]\` of your registry, optionally followed by a namespace
(\`/team/apps\`); the images land under it (table below). Options, passed to skopeo:
\`--dest-creds USER:PASSWORD\` (or the environment variable \`GANTRY_DEST_CREDS\`),
\`--dest-authfile FILE\` (e.g. one written by \`skopeo login --authfile FILE\`),
\`--dest-tls-verify=false\` (or \`--insecure\`) for plain http or a self-signed certificate.

For each image \`push.sh\` runs \`skopeo copy --all --preserve-digests\`, then reads the
manifest back from your registry and stops with an error if its digest is not the
bundle's. It then writes \`overlays/airgap/kustomization.yaml\` and
\`helm-values-airgap.yaml\` for that registry. Running it again is safe: images already
there are not copied again, and both files are rewritten.

## 3. Install

With kubectl (kustomize):

\`\`\`sh
kubectl apply -k overlays/airgap
\`\`\`
${
  chart
    ? `
Or with Helm:

\`\`\`sh
${input.charts.map((c) => `helm install ${chartRelease(input, c)} charts/${c.file} -f helm-values-airgap.yaml`).join("\n")}
\`\`\`
`
    : ""
}
If your registry needs credentials to pull, give the workloads an image pull secret
for it (\`kubectl create secret docker-registry …\`) as you do for your other software.

## Images

REGISTRY is the argument given to \`push.sh\`.

| Source | Pushed to | Digest |
|---|---|---|
${images.join("\n")}
`;
}
