import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "@/lib/env";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-metrics-env-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const parse = (vars: Record<string, string>) => parseEnv({ GANTRY_DATA_DIR: dir, AUTH_SECRET: "x".repeat(40), ...vars }, () => {});
const TOKEN = "0123456789abcdef0123456789abcdef";

describe("GANTRY_METRICS_PORT and GANTRY_METRICS_TOKEN", () => {
  it("serve no metrics when neither is set", () => {
    expect(parse({}).metrics).toBeNull();
  });

  it("read a port, a token, or both", () => {
    expect(parse({ GANTRY_METRICS_PORT: "9464" }).metrics).toEqual({ port: 9464, token: undefined });
    expect(parse({ GANTRY_METRICS_TOKEN: TOKEN }).metrics).toEqual({ port: undefined, token: TOKEN });
    expect(parse({ GANTRY_METRICS_PORT: "9464", GANTRY_METRICS_TOKEN: TOKEN }).metrics).toEqual({ port: 9464, token: TOKEN });
  });

  it.each([
    ["a short token", { GANTRY_METRICS_TOKEN: "short" }, "at least 32"],
    ["a token with a space", { GANTRY_METRICS_TOKEN: `${TOKEN} x` }, "printable ASCII"],
    ["the public port", { PORT: "3000", GANTRY_METRICS_PORT: "3000" }, "must differ"],
    ["the registry's port", { PORT: "3000", GANTRY_METRICS_PORT: "3001" }, "must differ"],
    ["no port", { GANTRY_METRICS_PORT: "0" }, "GANTRY_METRICS_PORT"],
  ])("refuse %s", (_name, vars, message) => {
    expect(() => parse(vars)).toThrow(EnvError);
    expect(() => parse(vars)).toThrow(message);
  });

  it("allow the registry's default port when the registry is off", () => {
    expect(parse({ PORT: "3000", GANTRY_REGISTRY: "off", GANTRY_METRICS_PORT: "3001" }).metrics?.port).toBe(3001);
  });
});
