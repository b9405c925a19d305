/**
 * Expected failures carry an AppError with a code from this list; each code has
 * one HTTP status, used by the API and action wrappers alike. Anything that is
 * not an AppError is unexpected: it is logged and replaced by a generic message.
 *
 * | code              | status | meaning                                              |
 * |-------------------|--------|------------------------------------------------------|
 * | BAD_REQUEST       | 400    | malformed request (not JSON, wrong content type)     |
 * | UNAUTHENTICATED   | 401    | no session, or a missing/invalid/revoked API token   |
 * | FORBIDDEN         | 403    | signed in and a team member, but the role may not    |
 * | NOT_FOUND         | 404    | no such resource, or it belongs to another team      |
 * | CONFLICT          | 409    | unique value taken, or a rule such as "last owner"   |
 * | PAYLOAD_TOO_LARGE | 413    | input over a stated size limit                       |
 * | VALIDATION        | 422    | input parsed but invalid; `fields` names the fields  |
 * | RATE_LIMITED      | 429    | too many attempts; try again later                   |
 * | INTERNAL          | 500    | unexpected; details are only in the server log       |
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  VALIDATION: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  /** A registry Gantry reads from (a vendor's, a public one) failed or lied. */
  BAD_GATEWAY: 502,
  /** Something Gantry depends on is not there right now (its registry's storage restarting); try again. */
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldErrors | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { fields?: FieldErrors; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what = "Resource") => new AppError("NOT_FOUND", `${what} not found.`);
export const forbidden = (message = "Your role does not allow this.") => new AppError("FORBIDDEN", message);
export const unauthenticated = (message = "Sign in to continue.") => new AppError("UNAUTHENTICATED", message);

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
