/**
 * Release version labels and their order. Labels that parse as semver (an
 * optional leading "v", one to three numeric parts, then -prerelease and
 * +build) sort by semver precedence; every other label sorts after all of
 * them, in natural order (digit runs compared as numbers). Labels of equal
 * precedence ("1.0" and "v1.0.0", builds) fall back to plain string order, so
 * the order is total: compareVersions(a, b) is 0 only when a === b.
 */
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const SEMVER_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** 1–64 characters of [A-Za-z0-9._+-], starting with a letter or digit. */
export function isValidVersion(label: string): boolean {
  return VERSION_RE.test(label);
}

interface Semver {
  core: [string, string, string];
  prerelease: string[];
}

function parseSemver(label: string): Semver | null {
  const m = SEMVER_RE.exec(label);
  if (!m) return null;
  return { core: [m[1] ?? "0", m[2] ?? "0", m[3] ?? "0"], prerelease: m[4] ? m[4].split(".") : [] };
}

const isDigits = (s: string) => /^\d+$/.test(s);

/** Compares two digit strings as numbers of any size. */
function compareNumeric(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, "");
  const y = b.replace(/^0+(?=\d)/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) {
    const c = compareNumeric(a.core[i] ?? "0", b.core[i] ?? "0");
    if (c) return c;
  }
  // A release ranks above its prereleases.
  if (!a.prerelease.length || !b.prerelease.length) return Math.sign(b.prerelease.length) - Math.sign(a.prerelease.length);
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i] ?? "";
    const y = b.prerelease[i] ?? "";
    const xn = isDigits(x);
    const yn = isDigits(y);
    const c = xn && yn ? compareNumeric(x, y) : xn ? -1 : yn ? 1 : compareStrings(x, y);
    if (c) return c;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/** Natural order: runs of digits compare as numbers, everything else as strings. */
function compareNatural(a: string, b: string): number {
  const xs = a.match(/\d+|\D+/g) ?? [];
  const ys = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i] ?? "";
    const y = ys[i] ?? "";
    const xn = isDigits(x);
    const yn = isDigits(y);
    const c = xn && yn ? compareNumeric(x, y) : xn ? -1 : yn ? 1 : compareStrings(x, y);
    if (c) return c;
  }
  return Math.sign(xs.length - ys.length);
}

/** Whether a label parses as semver (and so sorts before every other label). */
function isSemverLabel(label: string): boolean {
  return SEMVER_RE.test(label);
}

/**
 * The order releases are listed in: semver labels highest first, then the
 * other labels (natural order, highest first). A total order.
 */
export function newestFirst(a: string, b: string): number {
  const x = isSemverLabel(a);
  if (x !== isSemverLabel(b)) return x ? -1 : 1;
  return compareVersions(b, a);
}

/** Ascending order of version labels (semver first, then the rest); a total order. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseSemver(a);
  const y = parseSemver(b);
  let c: number;
  if (x && y) c = compareSemver(x, y);
  else if (x) return -1;
  else if (y) return 1;
  else c = compareNatural(a, b);
  return c || compareStrings(a, b);
}
