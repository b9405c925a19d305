import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, helmTools, renderChart, runTool, type K8sObject } from "./helm";

/**
 * deploy/helm/gantry, checked with the real Helm 4 client (helm lint --strict,
 * helm template) over the value sets an operator uses; the tests read the
 * rendered objects.
 */
type Values = Record<string, unknown>;

const SQLITE: Values = {};
const POSTGRES_3: Values = {
  replicas: 3,
  database: { type: "postgresql" },
  secrets: { existingSecret: "gantry-secrets" },
  registry: { backend: "http://distribution.vendor.svc:5000", tokenSecret: "gantry-registry-token" },
};
const INGRESS: Values = {
  hosts: { portal: "gantry.acme.com", proxy: "pull.acme.com", registry: "registry.acme.com" },
  ingress: { enabled: true, className: "nginx", customDomains: ["images.globex.io", "pull.acme.com", "charts.initech.dev"] },
};
const SQLITE_SECRET: Values = {
  secrets: { existingSecret: "gantry-prod", keys: { databaseUrl: "DATABASE_URL", authSecret: "auth", keks: "keks", kekCurrent: "kek-current" } },
};

async function render(values: Values): Promise<K8sObject[]> {
  const r = await renderChart(values);
  if (!r.ok) throw new Error(r.stderr);
  return r.objects;
}

function only(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
}

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } };
function container(deployment: K8sObject) {
  const [c] = deployment.spec.template.spec.containers;
  return c as { env: EnvVar[]; ports: { name: string; containerPort: number }[]; securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[]; [k: string]: unknown };
}
function envOf(deployment: K8sObject): Map<string, EnvVar> {
  return new Map(container(deployment).env.map((e) => [e.name, e]));
}

beforeAll(async () => {
  await helmTools();
}, 600_000);

describe("helm lint --strict", () => {
  it.each([
    ["defaults (SQLite, one replica)", SQLITE],
    ["PostgreSQL, 3 replicas", POSTGRES_3],
    ["Ingress with custom domains", INGRESS],
    ["SQLite with an existing Secret", SQLITE_SECRET],
  ])("passes on %s", async (_name, values) => {
    const { helm } = await helmTools();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gantry-helm-")), "values.json");
    fs.writeFileSync(file, JSON.stringify(values));
    const r = await runTool(helm, ["lint", "--strict", CHART_DIR, "--values", file]);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("fails on values the schema refuses", async () => {
    const { helm } = await helmTools();
    const r = await runTool(helm, ["lint", "--strict", CHART_DIR, "--set", "database.type=mysql"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/database\/type|database\.type/);
  });
});

describe("SQLite, one replica (the defaults)", () => {
  it("runs one non-root pod on a claim for /data, replaced (not rolled) so two never share the file", async () => {
    const objects = await render(SQLITE);
    expect(objects.map((o) => o.kind).sort()).toEqual(["Deployment", "PersistentVolumeClaim", "Service"]);
    const d = only(objects, "Deployment");
    const pvc = only(objects, "PersistentVolumeClaim");
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type).toBe("Recreate");
    const pod = d.spec.template.spec;
    expect(pod.volumes.find((v: { name: string }) => v.name === "data").persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
    expect(pvc.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
    expect(pvc.spec.accessModes).toEqual(["ReadWriteOnce"]);

    // Non-root, read-only root filesystem, writable /data and /tmp only.
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = container(d);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(c.volumeMounts.map((m) => m.mountPath).sort()).toEqual(["/data", "/tmp"]);
    expect(pod.volumes.find((v: { name: string }) => v.name === "tmp").emptyDir).toBeDefined();

    // Embedded mode: secrets generated on the volume, nothing taken from a Secret.
    const env = envOf(d);
    expect(env.get("GANTRY_ENV")?.value).toBe("embedded");
    expect(env.get("DATABASE_URL")?.value).toBe("file:/data/gantry.db");
    expect(env.get("GANTRY_DATA_DIR")?.value).toBe("/data");
    expect([...env.values()].some((e) => e.valueFrom)).toBe(false);
    expect(env.has("AUTH_SECRET")).toBe(false);
  });

  it("probes /healthz (startup, liveness) and /readyz (readiness), and gives the drain more time than it takes", async () => {
    const d = only(await render({ shutdownGraceSeconds: 120, preStopSleepSeconds: 5 }), "Deployment");
    const c = container(d);
    expect(c.startupProbe).toMatchObject({ httpGet: { path: "/healthz", port: "http" } });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "http" } });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "http" } });
    expect(c.ports).toEqual([
      { name: "http", containerPort: 3000 },
      { name: "registry", containerPort: 3001 },
    ]);
    const grace = Number(envOf(d).get("GANTRY_SHUTDOWN_GRACE_SECONDS")?.value);
    expect(grace).toBe(120);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace + 5);
    expect(c.lifecycle).toEqual({ preStop: { exec: { command: ["sleep", "5"] } } });
    // Migrations run before Gantry listens: the startup probe allows 10 minutes by default.
    const dflt = container(only(await render(SQLITE), "Deployment")).startupProbe as { periodSeconds: number; failureThreshold: number };
    expect(dflt.periodSeconds * dflt.failureThreshold).toBe(600);
  });

  it("exposes the portal+proxy port and the registry port on a Service that selects the pod", async () => {
    const objects = await render(SQLITE);
    const svc = only(objects, "Service");
    const d = only(objects, "Deployment");
    expect(svc.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [p.name, p.port, p.targetPort])).toEqual([
      ["http", 3000, "http"],
      ["registry", 3001, "registry"],
    ]);
    expect(d.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    expect(d.spec.selector.matchLabels).toEqual(svc.spec.selector);
    expect(envOf(d).get("GANTRY_REGISTRY_PORT")?.value).toBe("3001");
  });
});

describe("PostgreSQL, 3 replicas", () => {
  it("takes DATABASE_URL, AUTH_SECRET and the KEKs from the existing Secret, rolls, and keeps no claim", async () => {
    const objects = await render(POSTGRES_3);
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim")).toBe(false);
    const d = only(objects, "Deployment");
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const env = envOf(d);
    expect(env.get("GANTRY_ENV")?.value).toBe("production");
    for (const [name, key] of [
      ["DATABASE_URL", "DATABASE_URL"],
      ["AUTH_SECRET", "AUTH_SECRET"],
      ["GANTRY_KEKS", "GANTRY_KEKS"],
    ]) {
      expect(env.get(name!), name).toEqual({ name, valueFrom: { secretKeyRef: { name: "gantry-secrets", key } } });
    }
    expect(env.get("GANTRY_KEK_CURRENT")?.valueFrom?.secretKeyRef).toEqual({ name: "gantry-secrets", key: "GANTRY_KEK_CURRENT", optional: true });
    // /data holds only each replica's proxy cache: an emptyDir.
    const pod = d.spec.template.spec;
    expect(pod.volumes.find((v: { name: string }) => v.name === "data").emptyDir).toEqual({ sizeLimit: "20Gi" });
    // The registry stores in the shared backend, with the same signing key on every replica.
    expect(env.get("GANTRY_REGISTRY_BACKEND")?.value).toBe("http://distribution.vendor.svc:5000");
    expect(env.get("GANTRY_REGISTRY_TOKEN_KEY")?.value).toBe("/etc/gantry/registry-token/tls.key");
    expect(pod.volumes.find((v: { name: string }) => v.name === "registry-token").secret.secretName).toBe("gantry-registry-token");
    expect(container(d).volumeMounts.find((m) => m.name === "registry-token")).toMatchObject({ mountPath: "/etc/gantry/registry-token", readOnly: true });
  });
});

describe("the replica rule", () => {
  it("refuses 2 replicas on SQLite, with a message that says what to change", async () => {
    const r = await renderChart({ replicas: 2 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.stderr).toContain("replicas: 2 needs PostgreSQL");
    expect(!r.ok && r.stderr).toContain("set database.type=postgresql");
    // Helm 4's lint logs a template's `fail` at INFO and passes: install and template are where it refuses.
    const { helm } = await helmTools();
    const install = await runTool(helm, ["install", "gantry", CHART_DIR, "--dry-run=client", "--set", "replicas=2"]);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain("replicas: 2 needs PostgreSQL");
    expect((await runTool(helm, ["install", "gantry", CHART_DIR, "--dry-run=client", "--set", "replicas=1"])).code).toBe(0);
  });

  it("refuses PostgreSQL without a Secret, and replicas with the embedded registry", async () => {
    const noSecret = await renderChart({ database: { type: "postgresql" } });
    expect(!noSecret.ok && noSecret.stderr).toContain("database.type=postgresql needs secrets.existingSecret");
    const embeddedRegistry = await renderChart({ replicas: 2, database: { type: "postgresql" }, secrets: { existingSecret: "s" } });
    expect(!embeddedRegistry.ok && embeddedRegistry.stderr).toContain("replicas: 2 with Gantry's own registry needs registry.backend");
    const noRegistry = await render({ replicas: 2, database: { type: "postgresql" }, secrets: { existingSecret: "s" }, registry: { enabled: false } });
    const env = envOf(only(noRegistry, "Deployment"));
    expect(env.get("GANTRY_REGISTRY")?.value).toBe("off");
    expect(env.has("GANTRY_REGISTRY_PORT")).toBe(false);
    expect(only(noRegistry, "Service").spec.ports).toHaveLength(1);
  });
});

describe("Ingress", () => {
  it("routes the portal, proxy, registry and every verified custom domain to Gantry's port, each host once, each with its own TLS secret", async () => {
    const objects = await render(INGRESS);
    const ing = only(objects, "Ingress");
    const svc = only(objects, "Service");
    const hosts = ["gantry.acme.com", "pull.acme.com", "registry.acme.com", "images.globex.io", "charts.initech.dev"];
    expect(ing.spec.ingressClassName).toBe("nginx");
    expect(ing.spec.rules.map((r: { host: string }) => r.host)).toEqual(hosts);
    for (const rule of ing.spec.rules) {
      expect(rule.http.paths).toEqual([{ path: "/", pathType: "Prefix", backend: { service: { name: svc.metadata.name, port: { name: "http" } } } }]);
    }
    expect(ing.spec.tls).toEqual(hosts.map((h) => ({ hosts: [h], secretName: `gantry-${h.replaceAll(".", "-")}-tls` })));
    // The URLs Gantry puts in image names and token realms are the Ingress's names, over https;
    // the controller is the one trusted hop.
    const env = envOf(only(objects, "Deployment"));
    expect(env.get("GANTRY_PUBLIC_URL")?.value).toBe("https://gantry.acme.com");
    expect(env.get("GANTRY_PROXY_URL")?.value).toBe("https://pull.acme.com");
    expect(env.get("GANTRY_REGISTRY_URL")?.value).toBe("https://registry.acme.com");
    expect(env.get("GANTRY_TRUST_PROXY")?.value).toBe("1");
  });

  it("is absent unless enabled, and refuses to be enabled without a host", async () => {
    const objects = await render({ hosts: { proxy: "pull.acme.com" } });
    expect(objects.some((o) => o.kind === "Ingress")).toBe(false);
    expect(envOf(only(objects, "Deployment")).has("GANTRY_TRUST_PROXY")).toBe(false);
    const r = await renderChart({ ingress: { enabled: true } });
    expect(!r.ok && r.stderr).toContain("ingress.enabled needs host names");
  });

  it("refuses a host with a scheme, and settings the chart owns in env", async () => {
    const scheme = await renderChart({ hosts: { proxy: "https://pull.acme.com" } });
    expect(!scheme.ok && scheme.stderr).toMatch(/hosts\/proxy/);
    const owned = await renderChart({ env: { DATABASE_URL: "file:/elsewhere.db" } });
    expect(!owned.ok && owned.stderr).toMatch(/DATABASE_URL/);
  });
});

describe("an existing Secret on SQLite", () => {
  it("runs in production mode with AUTH_SECRET and the KEKs from the Secret's named keys and the database on the volume", async () => {
    const objects = await render(SQLITE_SECRET);
    const env = envOf(only(objects, "Deployment"));
    expect(env.get("GANTRY_ENV")?.value).toBe("production");
    expect(env.get("DATABASE_URL")?.value).toBe("file:/data/gantry.db");
    expect(env.get("AUTH_SECRET")?.valueFrom?.secretKeyRef).toEqual({ name: "gantry-prod", key: "auth" });
    expect(env.get("GANTRY_KEKS")?.valueFrom?.secretKeyRef).toEqual({ name: "gantry-prod", key: "keks" });
    expect(env.get("GANTRY_KEK_CURRENT")?.valueFrom?.secretKeyRef).toEqual({ name: "gantry-prod", key: "kek-current", optional: true });
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim")).toBe(true);
  });
});
