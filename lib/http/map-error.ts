import { ZodError } from "zod";
import { AppError, type FieldErrors } from "@/lib/errors";
import { log } from "@/lib/log";
import { currentRequestId } from "@/lib/observe/request-context";

/**
 * The one error mapper for actions and route handlers: ZodError → VALIDATION
 * with field errors, AppError → itself, Prisma "not found" → NOT_FOUND, unique
 * violation → CONFLICT, anything else → logged INTERNAL with a generic message.
 */
export function toAppError(e: unknown, context: Record<string, unknown> = {}): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof ZodError) return new AppError("VALIDATION", "Check the highlighted fields.", { fields: zodFieldErrors(e) });
  const prismaCode = typeof e === "object" && e !== null && "code" in e ? (e as { code: unknown }).code : undefined;
  if (prismaCode === "P2025") return new AppError("NOT_FOUND", "Resource not found.");
  if (prismaCode === "P2002") return new AppError("CONFLICT", "That value is already taken.");
  log.error("unexpected error", { ...context, error: e });
  return new AppError("INTERNAL", "Something went wrong on our side. It has been logged; please try again.");
}

export function zodFieldErrors(e: ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of e.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_";
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

/**
 * The API's error body: `{ "error": { "code", "message", "fields"?, "requestId"? } }`;
 * `requestId` (also in X-Request-Id) finds the request's lines in the server log.
 */
export function errorBody(e: AppError) {
  const requestId = currentRequestId();
  return { error: { code: e.code, message: e.message, ...(e.fields ? { fields: e.fields } : {}), ...(requestId ? { requestId } : {}) } };
}
