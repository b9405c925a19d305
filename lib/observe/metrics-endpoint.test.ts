import { describe, expect, it } from "vitest";
import { bearerMatches, isMetricsPath } from "@/lib/observe/metrics-endpoint";
import { registryClass } from "@/lib/observe/registry-class";

const TOKEN = "metrics-token-0123456789abcdef0123456789";

describe("isMetricsPath", () => {
  it.each([
    ["/metrics", true],
    ["/metrics?name[]=x", true],
    ["/metrics/", false],
    ["/metricsx", false],
    ["/v2/metrics", false],
    ["/", false],
    [undefined, false],
  ])("%s → %s", (path, expected) => {
    expect(isMetricsPath(path)).toBe(expected);
  });
});

describe("bearerMatches", () => {
  it("accepts exactly the token, as a bearer credential", () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
  });

  it.each([
    ["no header", undefined],
    ["an empty header", ""],
    ["another token", "Bearer metrics-token-0123456789abcdef0123456780"],
    ["a prefix of the token", `Bearer ${TOKEN.slice(0, -1)}`],
    ["the token and more", `Bearer ${TOKEN}x`],
    ["Basic with the token", `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`],
    ["the bare token", TOKEN],
    ["Bearer and nothing", "Bearer "],
  ])("refuses %s", (_name, header) => {
    expect(bearerMatches(header, TOKEN)).toBe(false);
  });
});

describe("registryClass", () => {
  it.each([
    ["registry-1.docker.io", "docker.io"],
    ["docker.io", "docker.io"],
    ["ghcr.io", "ghcr.io"],
    ["quay.io:443", "quay.io"],
    ["europe-docker.pkg.dev", "pkg.dev"],
    ["123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr"],
    ["acme.azurecr.io", "azurecr.io"],
    ["registry.acme.example", "other"],
    ["127.0.0.1:5000", "other"],
    ["evil-docker.io", "other"],
    [undefined, "unknown"],
  ])("%s → %s", (host, expected) => {
    expect(registryClass(host)).toBe(expected);
  });
});
