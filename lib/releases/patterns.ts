import { NAME_TOTAL_MAX, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";

/**
 * Extra repository patterns an app's licenses may pull beyond its releases'
 * images: "<registry path name>/<repository pattern>", e.g. "quay.io/acme/*" or
 * "127.0.0.1_5000/acme/**", matched against "<path name>/<repository>" (what
 * follows proxy/<app>/ in a proxied name).
 *
 * - Anchored on the whole string.
 * - `*` matches within one path segment (any characters but '/', at least one
 *   character when it is the whole segment).
 * - `**` is a whole segment and matches one or more segments: `a/**` matches
 *   `a/x` and `a/x/y`, not `a`. The pattern `**` alone matches every repository.
 * - Literal text follows the distribution path-component grammar (wildcards aside).
 *
 * Patterns compile to a list of segment matchers; matching splits the input on
 * '/' and never backtracks over it more than (segments × pattern segments), with
 * inputs over the longest possible repository name refused outright.
 */
export class PatternError extends Error {
  override name = "PatternError";
}

const MAX_PATTERNS = 50;
const MAX_PATTERN_LENGTH = NAME_TOTAL_MAX;

/** One segment of a pattern: `**`, or a glob within a segment split at its `*`s. */
type Glob = { kind: "glob"; pieces: string[]; wildcard: boolean };
type Segment = { kind: "globstar" } | Glob;

export interface Pattern {
  source: string;
  /** Runs of segment globs, one "**" between each two consecutive runs (a run is empty when "**" leads, trails or repeats). */
  runs: Glob[][];
}

function parseSegment(seg: string, source: string): Segment {
  if (seg === "**") return { kind: "globstar" };
  if (seg === "") throw new PatternError(`"${source}" has an empty path segment (a leading, trailing or doubled "/").`);
  if (seg.includes("**")) throw new PatternError(`"${source}": "**" must be a whole path segment, as in "quay.io/acme/**".`);
  const pieces = seg.split("*");
  // Wildcards aside, the text must be a valid path component: "a" stands in for each "*".
  if (!PATH_COMPONENT_RE.test(pieces.join("a"))) {
    throw new PatternError(`"${source}": "${seg}" is not a valid path segment (lowercase letters, digits, and ".", "_", "__" or "-" between them; "*" and "**" as wildcards).`);
  }
  return { kind: "glob", pieces, wildcard: pieces.length > 1 };
}

/** Parses and compiles one pattern; throws PatternError with a message fit for the vendor. */
export function parsePattern(p: string): Pattern {
  if (typeof p !== "string") throw new PatternError("A pattern must be a string.");
  const source = p.trim();
  if (source === "") throw new PatternError("A pattern cannot be empty.");
  if (source.length > MAX_PATTERN_LENGTH) throw new PatternError(`A pattern is at most ${MAX_PATTERN_LENGTH} characters.`);
  const segments = source.split("/").map((s) => parseSegment(s, source));
  if (segments.length < 2 && source !== "**") {
    throw new PatternError(`"${source}" names no repository: write "<registry path name>/<repository pattern>", such as "quay.io/acme/*".`);
  }
  // Split at each "**"; consecutive ones leave empty runs between them (each "**" takes at least one segment).
  const runs: Glob[][] = [];
  let current: Glob[] = [];
  for (const s of segments) {
    if (s.kind === "globstar") {
      runs.push(current);
      current = [];
    } else {
      current.push(s);
    }
  }
  runs.push(current);
  return { source, runs };
}

/** Whether one segment of the input matches a segment glob (pieces split at `*`, leftmost-greedy: linear in practice, no regex). */
function matchGlob(g: Glob, s: string): boolean {
  if (s.length === 0) return false;
  const { pieces } = g;
  if (!g.wildcard) return s === pieces[0];
  const first = pieces[0] ?? "";
  const last = pieces[pieces.length - 1] ?? "";
  if (s.length < first.length + last.length) return false;
  if (!s.startsWith(first) || !s.endsWith(last)) return false;
  let at = first.length;
  const end = s.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? "";
    if (piece === "") continue;
    const found = s.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

function matchRunAt(run: Glob[], input: string[], at: number): boolean {
  for (let k = 0; k < run.length; k++) {
    const seg = input[at + k];
    const g = run[k];
    if (seg === undefined || !g || !matchGlob(g, seg)) return false;
  }
  return true;
}

/**
 * Segment-level glob: the runs between `**`s are placed leftmost, each `**`
 * taking at least one segment. Leftmost placement is optimal because `**` only
 * asks for "one or more", so a later run never needs an earlier one further left.
 */
function matchSegments(p: Pattern, input: string[]): boolean {
  const { runs } = p;
  const n = input.length;
  if (runs.length === 1) {
    const only = runs[0] ?? [];
    return only.length === n && matchRunAt(only, input, 0);
  }
  const head = runs[0] ?? [];
  const tail = runs[runs.length - 1] ?? [];
  const globstars = runs.length - 1;
  const fixed = runs.reduce((sum, r) => sum + r.length, 0);
  if (n < fixed + globstars) return false;
  if (!matchRunAt(head, input, 0)) return false;
  const tailAt = n - tail.length;
  if (!matchRunAt(tail, input, tailAt)) return false;
  let at = head.length + 1; // the first "**" takes at least one segment
  for (let r = 1; r < runs.length - 1; r++) {
    const run = runs[r] ?? [];
    let placed = false;
    // The run must end before the tail leaves room for the "**" that follows it (and the ones after, one segment each).
    const laterGlobstars = runs.length - 1 - r;
    const laterFixed = runs.slice(r + 1, -1).reduce((sum, x) => sum + x.length, 0);
    const lastStart = tailAt - laterGlobstars - laterFixed - run.length;
    for (let i = at; i <= lastStart; i++) {
      if (matchRunAt(run, input, i)) {
        at = i + run.length + 1;
        placed = true;
        break;
      }
    }
    if (!placed) return false;
  }
  return at <= tailAt;
}

/** Whether "<path name>/<repository>" matches the pattern. Never throws; an invalid pattern string matches nothing. */
export function matchesPattern(pattern: Pattern | string, upstreamRepository: string): boolean {
  let p: Pattern;
  if (typeof pattern === "string") {
    try {
      p = parsePattern(pattern);
    } catch {
      return false;
    }
  } else {
    p = pattern;
  }
  if (typeof upstreamRepository !== "string" || upstreamRepository.length === 0 || upstreamRepository.length > NAME_TOTAL_MAX) return false;
  const input = upstreamRepository.split("/");
  return matchSegments(p, input);
}

/** Validates a list of patterns for an app: trimmed, lowercased, deduplicated, at most MAX_PATTERNS. Throws PatternError. */
export function validatePatterns(list: string[]): string[] {
  if (!Array.isArray(list)) throw new PatternError("Patterns must be a list of strings.");
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of list) {
    if (typeof raw !== "string") throw new PatternError("Each pattern must be a string.");
    const normalized = parsePattern(raw.trim().toLowerCase()).source;
    if (seen.has(normalized)) continue;
    seen.add(normalized);
    out.push(normalized);
  }
  if (out.length > MAX_PATTERNS) throw new PatternError(`At most ${MAX_PATTERNS} patterns per app.`);
  return out;
}
