import { env } from "@/lib/env";
import { currentRequestId } from "@/lib/observe/request-context";
import { processWide } from "@/lib/process-wide";

/**
 * A small structured logger: one JSON object a line on stderr. Values under keys
 * that look secret are replaced, so a careless `log.info({ body })` cannot print
 * a password or token; and every string (the message, nested values, keys, error
 * messages and stacks, URLs) has secret-shaped values masked by `redactString`.
 * A line written while serving a request carries its `requestId`
 * (lib/observe/request-context.ts), however deep in the request's async work.
 *
 * Not pino: `npm run bench:log` runs both in one process with the same
 * masking (Gantry's code either way: pino's path-based redaction cannot mask
 * values by their shape). With stderr read through a pipe, as a container
 * runtime reads it, pino's async destination cost ×1.28 to ×1.79 of this
 * writer per line and its sync one ×4 to ×18 (three runs at load 2, best of 8
 * rounds); to /dev/null they are even (×0.87 to ×1.21). What pino's buffer
 * adds, a bound on memory while the log's reader stalls, is done here
 * (MAX_BACKLOG_BYTES); the request id comes from the request's context, as a
 * pino mixin would take it.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|credential|license|ciphertext|dek|kek/i;

export const REDACTED = "[redacted]";

/**
 * `Basic`/`Bearer` followed by a credential (token68). One quantified class per
 * step, each disjoint from the next, so matching is linear in the input.
 */
const AUTH_SCHEME = /\b(Basic|Bearer)([ \t]+)([A-Za-z0-9+/._~-]+=*)/gi;
/** Maximal runs of base64url characters and dots; each run is classified in code. */
const RUN = /[A-Za-z0-9_.-]+/g;
const LICENSE_ID_LENGTH = 32;
const TOKEN_PREFIX = "gnt_";

/** A run between dots: a Gantry API token or a license-ID-shaped value is masked whole. */
function redactSegment(segment: string): string {
  if (segment.startsWith(TOKEN_PREFIX) && segment.length > TOKEN_PREFIX.length) return `${TOKEN_PREFIX}${REDACTED}`;
  // Exactly 32 base64url characters, delimited by anything else: a license ID (192 bits).
  // cuids (25) and SHA-256 hex (64) do not match; a 32-hex-digit value (an MD5, a bare UUID) does.
  if (segment.length === LICENSE_ID_LENGTH) return REDACTED;
  return segment;
}

function redactRun(run: string): string {
  if (!run.includes(".")) return redactSegment(run);
  const parts = run.split(".");
  for (let i = 0; i < parts.length; i++) {
    // A JWT: three base64url segments, the header starting with `eyJ` (`{"`); the signature may be empty.
    if (parts[i]?.startsWith("eyJ") && i + 2 < parts.length && parts[i + 1]) {
      parts.splice(i, 3, REDACTED);
      continue;
    }
    parts[i] = redactSegment(parts[i] ?? "");
  }
  return parts.join(".");
}

/**
 * Masks secret-shaped values inside free text: Gantry API tokens (`gnt_…`),
 * license IDs (32-character base64url runs), JWTs and `Basic`/`Bearer`
 * credentials. A plain lowercase word after Basic/Bearer ("Basic auth") is kept.
 */
export function redactString(s: string): string {
  return s
    .replace(AUTH_SCHEME, (match: string, scheme: string, space: string, value: string) => (/^[a-z]+$/.test(value) ? match : `${scheme}${space}${REDACTED}`))
    .replace(RUN, redactRun);
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[…]";
  if (typeof value === "string") return redactString(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: redactString(value.message), stack: value.stack === undefined ? undefined : redactString(value.stack) };
    if (value.cause !== undefined) out.cause = redact(value.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof URL) return redactString(value.href);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redactString(k)] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    return out;
  }
  return value;
}

/**
 * Lines stderr holds while its reader does not keep up (a stalled log
 * collector): past this, lines are dropped and counted
 * (gantry_log_lines_dropped_total), and memory stays bounded.
 */
export const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
// Per process, not per copy of this module (Next's bundle has its own).
const counts = processWide("log-counts", () => ({ dropped: 0 }));

/** Lines dropped so far because stderr's backlog was full (for the metrics). */
export function droppedLogLines(): number {
  return counts.dropped;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>) {
  let min: Level = "info";
  try {
    min = env().logLevel;
  } catch {
    // An invalid environment is reported elsewhere; keep logging at info.
  }
  if (LEVELS[level] < LEVELS[min]) return;
  if (process.stderr.writableLength > MAX_BACKLOG_BYTES) {
    counts.dropped++;
    return;
  }
  const requestId = currentRequestId();
  // The id is Gantry's own or a trusted proxy's checked one (lib/observe/request-id.ts): written as is.
  const line: Record<string, unknown> = { level, time: new Date().toISOString(), requestId, msg: redactString(msg), ...(fields ? (redact(fields) as object) : {}) };
  line.requestId = requestId; // a field of that name cannot replace it (undefined: left out of the JSON)
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
