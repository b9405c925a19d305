import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseReference } from "@/lib/registry-client/reference";
import { OCI_REF_NAME_RE, REPOSITORY_PATH_RE, TARGET_MAX } from "./bundle-names";
import { bundleReadme, helmEntries, kustomizeEntries, manifestsKustomization, nameBundleImages, pushScript, type BundleImage, type PushScriptInput } from "./push-script";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-push-script-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function image(source: string, digest: string, writtenNames: string[], names = nameBundleImages([{ source, digest }])[0]!): BundleImage {
  return { source, digest, writtenNames, refName: names.refName, target: names.target, tag: names.tag };
}

const input = (over: Partial<PushScriptInput> = {}): PushScriptInput => ({
  appSlug: "acme",
  appName: "Acme Platform",
  version: "1.2.0",
  images: [image("quay.io/acme/api:1.0", D("a"), ["quay.io/acme/api"]), image("nginx:1.27", D("b"), ["nginx", "docker.io/library/nginx"])],
  charts: [{ file: "acme-1.2.0.tgz", name: "acme", version: "1.2.0" }],
  ...over,
});

function parses(source: string): boolean {
  try {
    parseReference(source);
    return true;
  } catch {
    return false;
  }
}

/** Runs the script in a directory of its own with bash; `env` replaces PATH etc. when given. */
function runScript(script: string, args: string[], env: Record<string, string | undefined> = process.env) {
  const dir = fs.mkdtempSync(path.join(tmp, "run-"));
  fs.writeFileSync(path.join(dir, "push.sh"), script, { mode: 0o755 });
  const r = spawnSync("/bin/bash", [path.join(dir, "push.sh"), ...args], { encoding: "utf8", env: env as NodeJS.ProcessEnv, cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, dir };
}

describe("bundle image names", () => {
  const sources = [
    "quay.io/acme/api:1.0",
    "ghcr.io/acme/api:1.0",
    "acme/api:2.0",
    "docker.io/acme/api:2.1",
    "acme/api-2:3",
    `quay.io/acme/api@${D("c")}`,
    `quay.io/acme/api:1.1@${D("d")}`,
    "registry.example.com:5000/acme/odd:_x",
    "registry.example.com:5000/acme/odd:a..b",
    "nginx",
  ];
  const images = sources.map((source, i) => ({ source, digest: D("0123456789"[i]!) }));

  it("gives every repository one valid, distinct target, and every image a valid, distinct ref name", () => {
    const named = nameBundleImages(images);
    const targetByRepo = new Map<string, string>();
    for (const n of named) {
      expect(n.target).toMatch(REPOSITORY_PATH_RE);
      expect(n.refName).toMatch(OCI_REF_NAME_RE);
    }
    for (const [i, n] of named.entries()) targetByRepo.set(["quay.io/acme/api", "ghcr.io/acme/api", "docker.io/acme/api", "docker.io/acme/api", "docker.io/acme/api-2", "quay.io/acme/api", "quay.io/acme/api", "odd", "odd", "nginx"][i]!, n.target);
    expect(new Set(targetByRepo.values()).size).toBe(targetByRepo.size);
    expect(new Set(named.map((n) => n.refName)).size).toBe(named.length);
    // Numbered in sorted order of the source names (docker.io < ghcr.io < quay.io); acme/api-2 really exists, so the count skips it.
    expect(named.map((n) => n.target)).toEqual(["acme/api-4", "acme/api-3", "acme/api", "acme/api", "acme/api-2", "acme/api-4", "acme/api-4", "acme/odd", "acme/odd", "library/nginx"]);
    expect(named.map((n) => n.tag)).toEqual(["1.0", "1.0", "2.0", "2.1", "3", `sha256-${"5".repeat(12)}`, "1.1", "_x", "a..b", "latest"]);
    expect(named[0]!.refName).toBe("acme/api-4:1.0");
    expect(named[7]!.refName).toMatch(/^acme\/odd:ref-[0-9a-f]{12}$/);
  });

  it("names each image the same whatever order the images come in", () => {
    const forward = new Map(nameBundleImages(images).map((n) => [n.source, n.target]));
    const backward = new Map(nameBundleImages([...images].reverse()).map((n) => [n.source, n.target]));
    expect(backward).toEqual(forward);
  });

  it("refuses two digests under one pushed tag", () => {
    expect(() => nameBundleImages([{ source: "quay.io/a/b:1", digest: D("a") }, { source: `quay.io/a/b:1@${D("b")}`, digest: D("b") }])).toThrow(/two digests/);
    expect(() => nameBundleImages([{ source: "quay.io/a/b:1", digest: "sha256:zz" }])).toThrow(/digest/);
  });

  it("keeps targets valid, bounded and distinct for any set of references (fuzz)", () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,3}(?:[._-][a-z0-9]{1,3}){0,2}$/);
    const source = fc.record({
      host: fc.constantFrom("", "quay.io/", "ghcr.io/", "r.example:5000/", "localhost/"),
      path: fc.array(component, { minLength: 1, maxLength: 60 }),
      tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(source, { minLength: 1, maxLength: 12, selector: (s) => `${s.host}${s.path.join("/")}:${s.tag ?? ""}` }), (list) => {
        const imgs = list.map((s, i) => ({ source: `${s.host}${s.path.join("/")}${s.tag ? `:${s.tag}` : ""}`, digest: `sha256:${i.toString(16).padStart(64, "0")}` }));
        // Only references the grammar accepts ("a.b/c" reads as a host, names stop at 255 characters).
        fc.pre(imgs.every((i) => parses(i.source)));
        const named = nameBundleImages(imgs);
        const byTarget = new Map<string, string>();
        named.forEach((n, i) => {
          expect(n.target).toMatch(REPOSITORY_PATH_RE);
          expect(n.target.length).toBeLessThanOrEqual(TARGET_MAX);
          expect(n.refName).toMatch(OCI_REF_NAME_RE);
          const repo = imgs[i]!.source.replace(/:[^/:]*$/, "");
          expect(byTarget.get(n.target) ?? repo).toBe(repo);
          byTarget.set(n.target, repo);
        });
        expect(new Set(named.map((n) => n.refName)).size).toBe(named.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe("what push.sh bakes in", () => {
  it("refuses values that could break the shell quoting, the YAML or the overlay", () => {
    const good = input().images[0]!;
    const bad: [Partial<PushScriptInput>, RegExp][] = [
      [{ appSlug: "acme'; rm -rf /" }, /slug/],
      [{ version: "1.0\nrm" }, /version/],
      [{ version: "$(id)" }, /version/],
      [{ images: [{ ...good, tag: '1.0"' }] }, /tag/],
      [{ images: [{ ...good, tag: "1.0\n- name: x" }] }, /tag/],
      [{ images: [{ ...good, target: "Acme/API" }] }, /target/],
      [{ images: [{ ...good, target: "acme/$(id)" }] }, /target/],
      [{ images: [{ ...good, refName: "api 1.0" }] }, /ref name/],
      [{ images: [{ ...good, digest: "sha256:abc' ; id" }] }, /digest/],
      [{ images: [{ ...good, source: "quay.io/acme/api:1.0'" }] }, /image/],
      [{ images: [{ ...good, writtenNames: ['quay.io/acme/api"\n  newName: evil'] }] }, /written name/],
      [{ images: [{ ...good, writtenNames: ["quay.io/acme/api:1.0"] }] }, /without tag/],
      [{ images: [{ ...good, writtenNames: ["quay.io/acme/other"] }] }, /names quay.io\/acme\/other/],
      [{ images: [good, { ...good, source: "ghcr.io/acme/api:1.0", refName: "x:1" }] }, /also quay.io\/acme\/api/],
      [{ images: [good, { ...good, refName: "x:1", digest: D("f") }] }, /two digests/],
      [{ images: [good, { ...good, tag: "2.0" }] }, /used twice/],
      [{ charts: [{ file: "../evil.tgz", name: "acme", version: "1" }] }, /chart file/],
      [{ charts: [{ file: "acme.tgz", name: "acme\n", version: "1" }] }, /chart name/],
    ];
    for (const [over, message] of bad) expect(() => pushScript(input(over)), JSON.stringify(over)).toThrow(message);
  });

  it("carries free text (the app's name) inertly: the data block runs nothing", () => {
    const marker = path.join(tmp, "pwned");
    const script = pushScript(input({ appName: `Acme's "$(touch ${marker})" \`touch ${marker}\`\n touch ${marker}; ' ; touch ${marker} #` }));
    const r = runScript(script, ["--help"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: \.\/push\.sh/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("writes a script bash parses", () => {
    for (const i of [input(), input({ images: [], charts: [] })]) {
      const file = path.join(tmp, `syntax-${Math.random()}.sh`);
      fs.writeFileSync(file, pushScript(i));
      const r = spawnSync("bash", ["-n", file], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });

  it("maps each written name once: a tag, a digest for digest-only sources, the name alone when several tags share it", () => {
    const images = [
      image("quay.io/acme/api:1.0", D("a"), ["quay.io/acme/api"]),
      image(`quay.io/acme/worker@${D("b")}`, D("b"), ["quay.io/acme/worker"]),
      image(`quay.io/acme/pinned:2@${D("c")}`, D("c"), ["quay.io/acme/pinned"]),
      image("acme/web:1", D("d"), ["acme/web", "docker.io/acme/web"]),
    ];
    images.push({ ...image("acme/web:2", D("e"), ["acme/web"]), target: images[3]!.target });
    expect(kustomizeEntries(images)).toEqual([
      { name: "quay.io/acme/api", image: 0, mode: "tag" },
      { name: "quay.io/acme/worker", image: 1, mode: "digest" },
      { name: "quay.io/acme/pinned", image: 2, mode: "name" },
      { name: "acme/web", image: 3, mode: "name" },
      { name: "docker.io/acme/web", image: 3, mode: "tag" },
    ]);
    expect(helmEntries(images).map((e) => [e.key, e.digest])).toEqual([["api", false], ["worker", true], ["pinned", false], ["web", false], ["web2", false]]);
  });
});

describe("push.sh's destination argument", () => {
  const script = pushScript(input());
  const bad = [
    [],
    [""],
    ["bad prefix"],
    ["registry"],
    ["registry/acme"],
    ["reg.io/Acme"],
    ["reg.io/a b"],
    ["reg.io/a;id"],
    ["reg.io/$(id)"],
    ['reg.io/a"'],
    ["reg.io/a\nb"],
    ["reg.io:port/acme"],
    ["reg.io:123456"],
    ["reg.io/-a"],
    ["reg.io//a"],
    ["reg.io/a_"],
    ["-reg.io"],
    ["reg_io.example/acme"],
    ["https://reg.io/acme"],
    ["reg.io/acme", "other.io/acme"],
    ["--bogus", "reg.io/acme"],
    ["reg.io/acme", "--dest-creds"],
    [`reg.io/${"a".repeat(200)}`],
  ];
  it.each(bad.map((args) => [JSON.stringify(args), args] as const))("refuses %s with usage and exit 2", (_, args) => {
    const r = runScript(script, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^push\.sh: [^]+\n\nUsage: \.\/push\.sh/);
    expect(r.stdout).toBe("");
  });

  it.each(["registry.internal:5000/acme", "localhost:5000", "reg.io/team/acme-apps_x/v1.2", "10.0.0.1:443/a__b", "Registry.Example.COM/acme/"])("accepts %s and goes on to its checks", (dest) => {
    const r = runScript(script, ["--insecure", "--dest-creds", "u:p", dest]);
    // skopeo is installed here: the next stop is the bundle's own layout, which this temp dir lacks.
    expect(r.stderr).toMatch(/images\/index\.json is missing/);
    expect(r.code).toBe(1);
  });

  it("says how to install skopeo when it is not on PATH, before touching anything", () => {
    const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
    for (const tool of ["dirname", "sha256sum", "mkdir", "mv"]) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    const r = runScript(script, ["reg.io/acme"], { PATH: bin });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/skopeo is not installed.*apt-get install skopeo/);
    expect(fs.readdirSync(r.dir)).toEqual(["push.sh"]);
  });
});

describe("the base kustomization and the README", () => {
  it("lists the manifests as resources, quoting names YAML would misread", () => {
    const names = ["deployment.yaml", "a: b.yaml", "#x.yaml", "sub/dir/svc.yml", "- y.yaml", "'q\".yaml"];
    expect(YAML.parse(manifestsKustomization(names))).toEqual({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: names });
  });

  it("refuses manifest names outside manifests/ or clashing with its kustomization", () => {
    for (const n of ["../x.yaml", "/etc/passwd", "a/../../x.yaml", "kustomization.yaml", "a\nb.yaml", "", "a\\b.yaml"]) expect(() => manifestsKustomization([n]), n).toThrow(/manifest/);
    expect(() => manifestsKustomization(["a.yaml", "a.yaml"])).toThrow(/twice/);
  });

  it("tells the customer the steps and lists every image, with free text escaped", () => {
    const readme = bundleReadme({ ...input({ appName: "Acme <script>|x" }), customerName: "Bank | *Corp*\n# Owned", bundleBytes: 3 * 1024 ** 3 });
    expect(readme).toContain("# Acme \\<script\\>\\|x 1.2.0: air-gap bundle");
    expect(readme).toContain("Built by Gantry for Bank \\| \\*Corp\\* \\# Owned.");
    expect(readme).toContain("(3 GiB)");
    for (const step of ["tar -xf BUNDLE.tar", "./push.sh registry.internal:5000/acme", "kubectl apply -k overlays/airgap", "helm install acme charts/acme-1.2.0.tgz -f helm-values-airgap.yaml", "curl -C - -H 'If-Range", "skopeo 1.9"]) expect(readme).toContain(step);
    expect(readme).toContain(`| \`quay.io/acme/api:1.0\` | \`REGISTRY/acme/api:1.0\` | \`${D("a")}\` |`);
    expect(readme).toContain(`| \`nginx:1.27\` | \`REGISTRY/library/nginx:1.27\` | \`${D("b")}\` |`);
  });
});
