import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ChartArchiveError, readChartArchive } from "./chart-archive";
import { CHART_YAML, chartTgz, GANTRY, rawTgz } from "./test-archives";
import { buildLicenseVariant, mergeGantryValues, PULL_SECRET_TEMPLATE, PULL_SECRET_TEMPLATE_PATH, type GantryValues } from "./variant";


/** Values as Helm reads them (YAML 1.1: `0777` is octal, `yes` is true). */
const helmRead = (text: string) => parse(text, { version: "1.1", intAsBigInt: true }) as Record<string, unknown>;

const VENDOR = `# Vendor values: keep this comment.
replicaCount: 2
mode: 0777 # octal in YAML 1.1, as Helm reads it
enabled: yes
version: 1.10
big: 12345678901234567890
long: ${"a very long plain line ".repeat(8)}end
global:
  # The vendor's registry.
  imageRegistry: vendor.example
  gantry:
    stale: true
image:
  repository: nginx
`;

describe("mergeGantryValues", () => {
  it("replaces global.gantry only: the vendor's values, other globals and comments survive", () => {
    const merged = mergeGantryValues(VENDOR, GANTRY);
    const before = helmRead(VENDOR);
    const after = helmRead(merged);
    const { gantry, ...otherGlobals } = after.global as Record<string, unknown>;
    expect({ ...after, global: otherGlobals }).toEqual({ ...before, global: { imageRegistry: "vendor.example" } });
    expect(gantry).toEqual({
      imagePullSecretName: "acme-pull",
      dockerconfigjson: GANTRY.dockerconfigjson,
      license: { fingerprint: "ab:cd", customerName: "yes", type: "prod", expiresAt: null },
      images: GANTRY.images,
      additionalNamespaces: ["monitoring", "*"],
    });
    for (const kept of ["# Vendor values: keep this comment.", "# The vendor's registry.", "mode: 0777 # octal", `long: ${"a very long plain line ".repeat(8)}end`, "big: 12345678901234567890"]) {
      expect(merged).toContain(kept);
    }
  });

  it.each([
    ["no values.yaml", null],
    ["an empty one", ""],
    ["comments only", "# nothing yet\n"],
    ["a null global", "global:\nother: 1\n"],
    ["an empty flow global", "global: {}\n"],
    ["a flow map", "{}\n"],
  ])("adds the block to %s", (_, text) => {
    const merged = mergeGantryValues(text, GANTRY);
    expect((helmRead(merged).global as { gantry: GantryValues }).gantry.imagePullSecretName).toBe("acme-pull");
    expect(merged).toContain("\n    imagePullSecretName: acme-pull\n");
  });

  it.each([
    ["a list", "- a\n"],
    ["a scalar global", "global: x\n"],
    ["broken YAML", "a: [1\n"],
  ])("refuses values.yaml that is %s", (_, text) => {
    expect(() => mergeGantryValues(text, GANTRY)).toThrow(ChartArchiveError);
  });

  it("keeps every string a string as Helm reads it (YAML 1.1), keys included", () => {
    const tricky = ["12:34:56", "0777", "1e3", "~", "null", "on", "No", "0x1F", "1_000", "2001-12-14", ".inf", "=", "<<", "1.2", "true", "-", "? x", "#x", "a: b", "' q", "{a}", "[", "*x", "&x", "!x", "|", ">", "%x", "@x", "`x"];
    const gantry = { ...GANTRY, images: Object.fromEntries(tricky.map((t) => [t, t])), license: { fingerprint: "12:34:56", customerName: "on", type: "0777", expiresAt: "2027-01-01T00:00:00.000Z" } };
    const back = (helmRead(mergeGantryValues(null, gantry)).global as { gantry: GantryValues }).gantry;
    expect(back.images).toEqual(gantry.images);
    expect(back.license).toEqual(gantry.license);
  });

  it("writes nothing the caller's objects carry beyond GantryValues (a license ID, say)", () => {
    const withId = { ...GANTRY, licenseId: "lic_secret", license: { ...GANTRY.license, id: "lic_secret" } } as GantryValues;
    expect(mergeGantryValues(VENDOR, withId)).not.toContain("lic_secret");
  });

  it("does not depend on the image map's insertion order", () => {
    const reversed = { ...GANTRY, images: Object.fromEntries(Object.entries(GANTRY.images).reverse()) };
    expect(mergeGantryValues(VENDOR, reversed)).toBe(mergeGantryValues(VENDOR, GANTRY));
  });
});

describe("buildLicenseVariant", () => {
  it("rewrites values.yaml in place and adds the template last; the rest is the vendor's, in order", async () => {
    const chart = await chartTgz({ "templates/service.yaml": "kind: Service\n" });
    const variant = await readChartArchive(await buildLicenseVariant(chart, GANTRY, { pullSecretTemplate: true }));
    const vendor = await readChartArchive(chart);
    expect(variant.root).toBe("acme");
    expect(variant.files.map((f) => f.path)).toEqual([...vendor.files.map((f) => f.path), PULL_SECRET_TEMPLATE_PATH]);
    for (const f of vendor.files.filter((f) => f.path !== "values.yaml")) expect(variant.files.find((v) => v.path === f.path)?.data.equals(f.data)).toBe(true);
    expect(variant.files.find((f) => f.path === PULL_SECRET_TEMPLATE_PATH)?.data.toString()).toBe(PULL_SECRET_TEMPLATE);
    expect(helmRead(variant.files.find((f) => f.path === "values.yaml")!.data.toString())).toMatchObject({ replicaCount: 2n, global: { gantry: { imagePullSecretName: "acme-pull" } } });
  });

  it("without the template option adds no template, and replaces a vendor file of that name only with it", async () => {
    const chart = await chartTgz({ [PULL_SECRET_TEMPLATE_PATH]: "kind: Vendor\n" });
    const without = await readChartArchive(await buildLicenseVariant(chart, GANTRY, { pullSecretTemplate: false }));
    expect(without.files.find((f) => f.path === PULL_SECRET_TEMPLATE_PATH)?.data.toString()).toBe("kind: Vendor\n");
    const withIt = await readChartArchive(await buildLicenseVariant(chart, GANTRY, { pullSecretTemplate: true }));
    expect(withIt.files.filter((f) => f.path === PULL_SECRET_TEMPLATE_PATH).map((f) => f.data.toString())).toEqual([PULL_SECRET_TEMPLATE]);
  });

  it("adds values.yaml after Chart.yaml when the chart has none", async () => {
    const chart = await rawTgz([
      { name: "acme/Chart.yaml", data: CHART_YAML },
      { name: "acme/templates/a.yaml", data: "a" },
    ]);
    const variant = await readChartArchive(await buildLicenseVariant(chart, GANTRY, { pullSecretTemplate: false }));
    expect(variant.files.map((f) => f.path)).toEqual(["Chart.yaml", "values.yaml", "templates/a.yaml"]);
  });

  it("is deterministic for one license and chart, and differs between licenses", async () => {
    const chart = await chartTgz();
    const a = await buildLicenseVariant(chart, GANTRY, { pullSecretTemplate: true });
    const again = await buildLicenseVariant(chart, structuredClone(GANTRY), { pullSecretTemplate: true });
    const other = await buildLicenseVariant(chart, { ...GANTRY, license: { ...GANTRY.license, fingerprint: "ef:01" } }, { pullSecretTemplate: true });
    expect(again.equals(a)).toBe(true);
    expect(other.equals(a)).toBe(false);
  });

  it("refuses a hostile chart", async () => {
    const chart = await rawTgz([
      { name: "acme/Chart.yaml", data: CHART_YAML },
      { name: "acme/templates/x.yaml", type: "symlink", linkname: "/etc/shadow" },
    ]);
    await expect(buildLicenseVariant(chart, GANTRY, { pullSecretTemplate: true })).rejects.toMatchObject({ name: "ChartArchiveError", reason: "unsafe_entry" });
  });
});
