import { describe, expect, it } from "vitest";
import { slugProblem, suggestSlug } from "@/lib/apps/slug";

describe("app slugs", () => {
  it.each(["abc", "my-app", "a1-b2-c3", "x".repeat(40)])("accepts %s", (s) => expect(slugProblem(s)).toBeNull());
  it.each([
    ["ab", /3 to 40/],
    ["x".repeat(41), /3 to 40/],
    ["-app", /not at the start or end/],
    ["app-", /not at the start or end/],
    ["my--app", /single dashes/],
    ["My-App", /lowercase/],
    ["my_app", /lowercase letters, digits/],
    ["my.app", /lowercase letters, digits/],
    ["proxy", /reserved/],
    ["v2", /3 to 40|reserved/],
    ["api", /reserved/],
  ])("refuses %s", (s, why) => expect(slugProblem(s)).toMatch(why));

  it("suggests valid slugs from names", () => {
    expect(suggestSlug("Acme Analytics Platform")).toBe("acme-analytics-platform");
    expect(suggestSlug("  Ünïcode App!! ")).toBe("unicode-app");
    expect(suggestSlug("X")).toBe("x-app");
    expect(suggestSlug("Proxy")).toBe("proxy-app");
    expect(suggestSlug("a".repeat(60))).toHaveLength(40);
    for (const n of ["Acme", "X", "Proxy", "--", "a".repeat(60), "Big  Data // Thing"]) expect(slugProblem(suggestSlug(n))).toBeNull();
  });
});
