/**
 * Parses `WWW-Authenticate` (RFC 7235) as registries send it:
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"
 *   Basic realm="basic-realm"
 * Quoted values may contain commas and escaped quotes; several challenges may
 * share one header. A small hand-written tokenizer: no npm package parses the
 * full grammar with quoted commas and multiple challenges and is maintained.
 */
export interface Challenge {
  scheme: string; // lowercased: "bearer", "basic"
  params: Record<string, string>; // keys lowercased
}

/** RFC 7230 tchar, by char code (ASCII only). */
const TCHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+.^_`|~-") TCHAR[c.charCodeAt(0)] = 1;
const SPACE = 0x20;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const WHITESPACE_RE = /\s/;

const isTchar = (c: number) => c < 128 && TCHAR[c] === 1;
/** Whitespace (as /\s/ has it) or a comma: what separates challenges and params. */
const isSeparator = (c: number) => c === COMMA || c === SPACE || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && WHITESPACE_RE.test(String.fromCharCode(c)));

/**
 * One pass over the header, char codes only: every character is looked at a
 * bounded number of times and quoted values are built from slices, so the work
 * is linear in the header's length.
 */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  let current: Challenge | undefined;
  while (i < n) {
    while (i < n && isSeparator(header.charCodeAt(i))) i++;
    if (i >= n) break;
    const tokenStart = i;
    while (i < n && isTchar(header.charCodeAt(i))) i++;
    const token = header.slice(tokenStart, i);
    if (!token) {
      i++; // skip a stray character
      continue;
    }
    let j = i;
    while (j < n && header.charCodeAt(j) === SPACE) j++;
    if (j < n && header.charCodeAt(j) === EQUALS && current) {
      i = j + 1;
      while (i < n && header.charCodeAt(i) === SPACE) i++;
      let value = "";
      if (i < n && header.charCodeAt(i) === QUOTE) {
        i++;
        let start = i;
        while (i < n) {
          const c = header.charCodeAt(i);
          if (c === QUOTE) break;
          if (c === BACKSLASH && i + 1 < n) {
            value += header.slice(start, i);
            i++; // the escaped character starts the next slice
            start = i;
          }
          i++;
        }
        value += header.slice(start, i);
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && header.charCodeAt(i) !== COMMA) i++;
        value = header.slice(start, i).trim();
      }
      // defineProperty, not assignment: a param named __proto__ must stay an ordinary param
      Object.defineProperty(current.params, token.toLowerCase(), { value, writable: true, enumerable: true, configurable: true });
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** The first Bearer or Basic challenge, Bearer preferred. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
}
