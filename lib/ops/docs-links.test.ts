import fs from "node:fs";
import path from "node:path";
import GithubSlugger from "github-slugger";
import { describe, expect, it } from "vitest";

// The README is the front door and docs/ holds the rest: a link from one to the other that
// points at a moved file or a renamed section sends a newcomer nowhere.
const ROOT = process.cwd();
const FILES = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Markdown without its fenced code blocks (a `[x](y)` in a shell example is not a link). */
function prose(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
}

/** GitHub's anchors for a file's headings. */
function anchors(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const out = new Set<string>();
  for (const m of prose(fs.readFileSync(path.join(ROOT, file), "utf8")).matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(slugger.slug(m[1]!.replace(/[`*]/g, "")));
  }
  return out;
}

function links(file: string): { target: string; anchor: string | undefined }[] {
  const out: { target: string; anchor: string | undefined }[] = [];
  for (const m of prose(fs.readFileSync(path.join(ROOT, file), "utf8")).matchAll(/\]\(([^)\s]+)\)/g)) {
    const href = m[1]!;
    if (/^[a-z]+:/i.test(href)) continue; // http(s), mailto: not ours to check offline
    const [rel, anchor] = href.split("#", 2) as [string, string | undefined];
    out.push({ target: rel === "" ? file : path.normalize(path.join(path.dirname(file), rel)), anchor });
  }
  return out;
}

describe("the README and docs/", () => {
  it("link to one another: every README ⇄ docs link names a file and a heading that exist", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of FILES) {
      for (const { target, anchor } of links(file)) {
        checked++;
        if (!fs.existsSync(path.join(ROOT, target))) broken.push(`${file}: ${target} does not exist`);
        else if (anchor !== undefined && target.endsWith(".md") && !anchors(target).has(anchor)) broken.push(`${file}: ${target}#${anchor} names no heading`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it("the README links every document in docs/", () => {
    const fromReadme = new Set(links("README.md").map((l) => l.target));
    expect(FILES.filter((f) => f.startsWith("docs/") && !fromReadme.has(f))).toEqual([]);
  });
});
