import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AppError } from "@/lib/errors";

// The wrapper's collaborators that need a request (session, headers, DB) are
// replaced; what is under test is the order of steps and the error mapping.
const requireUser = vi.fn();
const teamContextForUser = vi.fn();
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "x-gantry-client-ip": "203.0.113.7" }) }));
vi.mock("@/lib/auth/session", () => ({ requireUser: () => requireUser() }));
vi.mock("@/lib/teams/access", () => ({ teamContextForUser: (...a: unknown[]) => teamContextForUser(...a) }));
vi.mock("@/lib/log", () => ({ log: { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() } }));

const { teamAction } = await import("@/lib/http/team-action");
const { log } = await import("@/lib/log");

const ctx = { team: { id: "t1", name: "Acme", slug: "acme" }, role: "admin", actor: { type: "user", id: "u1", label: "a@x" }, userId: "u1", ip: null };
const schema = z.object({ team: z.string(), name: z.string().min(3, "Too short.") });

function form(fields: Record<string, string>) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

beforeEach(() => {
  vi.clearAllMocks();
  requireUser.mockResolvedValue({ id: "u1", email: "a@x" });
  teamContextForUser.mockResolvedValue(ctx);
});

describe("teamAction", () => {
  it("checks session, then team and permission with the client IP, then parses, then calls", async () => {
    const handler = vi.fn(async () => ({ ok: true, message: "done" }));
    const result = await teamAction("member:invite", schema, handler)({ ok: false }, form({ team: "acme", name: "Widget" }));
    expect(result).toEqual({ ok: true, message: "done" });
    expect(teamContextForUser).toHaveBeenCalledWith({ id: "u1", email: "a@x" }, "acme", "member:invite", "203.0.113.7");
    expect(handler).toHaveBeenCalledWith({ team: "acme", name: "Widget" }, ctx);
  });

  it("maps zod failures to field errors without calling the handler", async () => {
    const handler = vi.fn();
    const result = await teamAction("member:invite", schema, handler)({ ok: false }, form({ team: "acme", name: "x" }));
    expect(result.ok).toBe(false);
    expect(result.fieldErrors).toEqual({ name: ["Too short."] });
    expect(handler).not.toHaveBeenCalled();
  });

  it("refuses anonymous callers before touching the team", async () => {
    requireUser.mockRejectedValue(new AppError("UNAUTHENTICATED", "Sign in to continue."));
    const handler = vi.fn();
    const result = await teamAction("member:invite", schema, handler)({ ok: false }, form({ team: "acme", name: "Widget" }));
    expect(result).toEqual({ ok: false, message: "Sign in to continue.", fieldErrors: undefined });
    expect(teamContextForUser).not.toHaveBeenCalled();
    expect(handler).not.toHaveBeenCalled();
  });

  it("passes AppError messages and fields through (e.g. another team is not found, a role is forbidden)", async () => {
    teamContextForUser.mockRejectedValue(new AppError("NOT_FOUND", "Team not found."));
    const handler = vi.fn();
    expect(await teamAction("member:invite", schema, handler)({ ok: false }, form({ team: "other", name: "Widget" }))).toMatchObject({
      ok: false,
      message: "Team not found.",
    });
    teamContextForUser.mockResolvedValue(ctx);
    const failing = vi.fn(async () => {
      throw new AppError("CONFLICT", "Already a member.", { fields: { email: ["Already a member."] } });
    });
    expect(await teamAction("member:invite", schema, failing)({ ok: false }, form({ team: "acme", name: "Widget" }))).toEqual({
      ok: false,
      message: "Already a member.",
      fieldErrors: { email: ["Already a member."] },
    });
  });

  it("hides unexpected errors behind a generic message and logs them", async () => {
    const failing = vi.fn(async () => {
      throw new Error("SQLITE_BUSY: database is locked at /secret/path");
    });
    const result = await teamAction("member:invite", schema, failing)({ ok: false }, form({ team: "acme", name: "Widget" }));
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/Something went wrong/);
    expect(result.message).not.toMatch(/SQLITE|secret/);
    expect(log.error).toHaveBeenCalledTimes(1);
  });

  it("maps Prisma's not-found and unique-violation codes", async () => {
    const notFound = vi.fn(async () => {
      throw Object.assign(new Error("No record"), { code: "P2025" });
    });
    const taken = vi.fn(async () => {
      throw Object.assign(new Error("Unique constraint"), { code: "P2002" });
    });
    expect((await teamAction("member:invite", schema, notFound)({ ok: false }, form({ team: "acme", name: "Widget" }))).message).toBe(
      "Resource not found.",
    );
    expect((await teamAction("member:invite", schema, taken)({ ok: false }, form({ team: "acme", name: "Widget" }))).message).toBe(
      "That value is already taken.",
    );
  });
});
