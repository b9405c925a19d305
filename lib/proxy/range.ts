/**
 * One HTTP byte range (RFC 9110 §14.1.2) against a known length:
 * `bytes=a-b`, `bytes=a-`, `bytes=-n`. A header that is not one such range
 * (several ranges, another unit, garbage) is ignored, as the RFC allows: the
 * whole blob is sent. A range starting past the end is unsatisfiable (416).
 * Linear: one anchored pattern with two bounded digit runs.
 */
export type ByteRange = { kind: "range"; start: number; end: number } | { kind: "unsatisfiable" };

const RANGE_RE = /^bytes=(\d{0,16})-(\d{0,16})$/;

export function parseRange(header: string, size: number): ByteRange | null {
  const m = RANGE_RE.exec(header.trim());
  if (!m) return null;
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return null; // invalid: ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}
