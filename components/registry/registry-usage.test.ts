import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { RegistryUsage } from "@/lib/hosted-registry/quota";
import { RegistryUsageCard } from "./registry-usage";

const GiB = 2 ** 30;
const render = (usage: RegistryUsage | "error") => renderToStaticMarkup(createElement(RegistryUsageCard, { usage }));
const text = (html: string) => html.replace(/<[^>]+>/g, " ").replace(/&#x27;/g, "'").replace(/\s+/g, " ").trim();

describe("RegistryUsageCard", () => {
  it("says when the usage could not be loaded, as an alert, without numbers", () => {
    const html = render("error");
    expect(html).toContain('role="alert"');
    expect(text(html)).toContain("The registry's usage could not be loaded. Reload the page; if it keeps failing, tell your operator.");
    expect(html).not.toContain('role="meter"');
  });

  it("shows an empty registry against its quota", () => {
    const html = render({ storedBytes: 0, uploadingBytes: 0, quotaBytes: 50 * GiB });
    expect(text(html)).toContain("0 B of 50 GiB quota Nothing stored yet.");
    expect(html).toContain('aria-valuenow="0"');
  });

  it("counts open uploads in the usage and says so; never reads 100 % before the quota is used up", () => {
    const html = render({ storedBytes: 45 * GiB, uploadingBytes: GiB, quotaBytes: 50 * GiB });
    expect(text(html)).toContain("46 GiB of 50 GiB quota 92% used (1 GiB of it in uploads still open); 4 GiB left.");
    expect(text(render({ storedBytes: 50 * GiB - 1, uploadingBytes: 0, quotaBytes: 50 * GiB }))).toContain("99.9% used");
  });

  it("at the quota, says pushes are refused and what to do; without a quota, shows no bar", () => {
    expect(text(render({ storedBytes: 50 * GiB, uploadingBytes: 0, quotaBytes: 50 * GiB }))).toContain("The quota is used up: pushes are refused.");
    const unlimited = render({ storedBytes: 3 * GiB, uploadingBytes: 0, quotaBytes: 0 });
    expect(text(unlimited)).toContain("3 GiB stored, no quota on this Gantry");
    expect(unlimited).not.toContain('role="meter"');
  });
});
