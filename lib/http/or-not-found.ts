import "server-only";
import { notFound } from "next/navigation";
import { isAppError } from "@/lib/errors";

/** Turns a NOT_FOUND AppError from a loader into the 404 page. */
export async function orNotFound<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    if (isAppError(e) && e.code === "NOT_FOUND") notFound();
    throw e;
  }
}
