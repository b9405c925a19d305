import { describe, expect, it } from "vitest";
import { extractImages, ManifestError, MAX_INPUT_BYTES } from "@/lib/rewrite/extract";

const M = `apiVersion: v1
kind: Pod
metadata: { name: pod-a, namespace: ns1 }
spec:
  initContainers: [{ name: init, image: busybox:1.36 }]
  containers: [{ name: app, image: quay.io/acme/api:1.0 }]
  ephemeralContainers: [{ name: debug, image: acme/debug }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      imagePullSecrets: [{ name: existing }]
      containers:
        - name: web
          image: nginx:1.27
        - name: side
          image: ghcr.io/acme/side@sha256:${"a".repeat(64)}
---
# only a comment
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{ name: job, image: registry.example.com:5000/acme/job:v2 }]
---
apiVersion: v1
kind: PodTemplate
metadata: { name: tmpl }
template:
  spec:
    containers: [{ name: t, image: redis }]
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: custom }
spec:
  template:
    spec:
      containers: [{ name: w, image: acme/widget:3 }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: cfg }
data: { image: "not-an-image-field:1" }
`;

describe("extractImages", () => {
  it("finds images in every supported kind and container list, with file, document and line", () => {
    const { occurrences, workloads } = extractImages([{ name: "app.yaml", content: M }]);
    expect(occurrences.map((o) => [o.kind, o.container, o.image])).toEqual([
      ["Pod", "containers[0]", "quay.io/acme/api:1.0"],
      ["Pod", "initContainers[0]", "busybox:1.36"],
      ["Pod", "ephemeralContainers[0]", "acme/debug"],
      ["Deployment", "containers[0]", "nginx:1.27"],
      ["Deployment", "containers[1]", `ghcr.io/acme/side@sha256:${"a".repeat(64)}`],
      ["CronJob", "containers[0]", "registry.example.com:5000/acme/job:v2"],
      ["PodTemplate", "containers[0]", "redis"],
      ["Widget", "containers[0]", "acme/widget:3"],
    ]);
    expect(occurrences.find((o) => o.image === "nginx:1.27")).toMatchObject({ file: "app.yaml", document: 2, name: "web", line: 18 });
    expect(occurrences.find((o) => o.kind === "CronJob")?.document).toBe(4);
    expect(workloads.map((w) => [w.kind, w.podSpecPath.join(".")])).toEqual([
      ["Pod", "spec"],
      ["Deployment", "spec.template.spec"],
      ["CronJob", "spec.jobTemplate.spec.template.spec"],
      ["PodTemplate", "template.spec"],
      ["Widget", "spec.template.spec"],
    ]);
    expect(workloads.find((w) => w.kind === "Deployment")?.existingPullSecrets).toEqual(["existing"]);
    expect(workloads.find((w) => w.kind === "Pod")?.namespace).toBe("ns1");
  });

  it("names the file, document and line of bad YAML", () => {
    const bad = "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n";
    try {
      extractImages([{ name: "ok.yaml", content: "kind: Pod\n" }, { name: "broken.yaml", content: bad }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ManifestError);
      expect((e as ManifestError).message).toMatch(/^broken\.yaml, document 2, line \d+:/);
      expect((e as ManifestError).document).toBe(2);
    }
  });

  it("refuses input over the size limit with a clear error instead of parsing it", () => {
    const huge = "a: b\n".repeat(MAX_INPUT_BYTES / 4);
    expect(() => extractImages([{ name: "big.yaml", content: huge }])).toThrow(/limit is/);
  });

  it("ignores documents without images and survives alias bombs", () => {
    expect(extractImages([{ name: "cm.yaml", content: "kind: ConfigMap\ndata: {a: b}\n" }]).occurrences).toEqual([]);
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    expect(() => extractImages([{ name: "bomb.yaml", content: bomb }])).toThrow(ManifestError);
  });
});
