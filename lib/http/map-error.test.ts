import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { errorBody } from "@/lib/http/map-error";
import { withRequest } from "@/lib/observe/request-context";

describe("the API's error body", () => {
  it("carries the request's id inside a request (the id in X-Request-Id), and none outside", async () => {
    const e = new AppError("NOT_FOUND", "Resource not found.");
    const inside = await withRequest({ id: "7c9e6679-7425-40de-944b-e07fc1f90ae7", face: "api" }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return errorBody(e);
    });
    expect(inside).toEqual({ error: { code: "NOT_FOUND", message: "Resource not found.", requestId: "7c9e6679-7425-40de-944b-e07fc1f90ae7" } });
    expect(errorBody(e)).toEqual({ error: { code: "NOT_FOUND", message: "Resource not found." } });
  });
});
