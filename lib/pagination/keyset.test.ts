import { describe, expect, it } from "vitest";
import { z } from "zod";
import { cursorSchema, decodeCursor, encodeCursor, keysetPage, olderThan, parseCursor } from "./keyset";

describe("keyset cursors", () => {
  const row = { createdAt: new Date("2026-11-23T10:11:12.345Z"), id: "cmabc123xyz" };

  it("round-trips (createdAt, id) through an opaque base64url string", () => {
    const c = encodeCursor(row);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual(row);
    expect(cursorSchema.parse(c)).toBe(c);
    expect(parseCursor(c)).toEqual(row);
  });

  it("refuses anything it did not make, as a validation error", () => {
    const bad = [
      "",
      "cmabc123xyz", // an old-style bare id
      "not base64!",
      Buffer.from("2026-11-23|x").toString("base64url"),
      Buffer.from("2026-13-40T10:11:12.345Z|x").toString("base64url"),
      Buffer.from("2026-11-23T10:11:12.345Z|").toString("base64url"),
      Buffer.from("2026-11-23T10:11:12.345Z|a|b").toString("base64url"),
      Buffer.from("2026-11-23T10:11:12.345Z|a b").toString("base64url"),
      "A".repeat(201),
    ];
    for (const b of bad) {
      expect(decodeCursor(b), b).toBeNull();
      expect(cursorSchema.safeParse(b).success, b).toBe(false);
      expect(() => parseCursor(b)).toThrow(z.ZodError);
    }
  });

  it("builds the strict 'older than' condition and the next cursor only when there is more", () => {
    expect(olderThan(row)).toEqual({ createdAt: { lte: row.createdAt }, OR: [{ createdAt: { lt: row.createdAt } }, { createdAt: row.createdAt, id: { lt: row.id } }] });
    const rows = [row, { ...row, id: "b" }, { ...row, id: "a" }];
    expect(keysetPage(rows, 2)).toEqual({ page: rows.slice(0, 2), nextCursor: encodeCursor(rows[1]!) });
    expect(keysetPage(rows, 3)).toEqual({ page: rows, nextCursor: null });
  });
});
