import crypto from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";

// GANTRY_LOG_LEVEL, as env() reads it; a test changes it.
const settings = vi.hoisted(() => ({ logLevel: "debug" as "debug" | "info" | "warn" | "error" }));
vi.mock("@/lib/env", () => ({ env: () => settings }));

const { log, redact, redactString, REDACTED, MAX_BACKLOG_BYTES, droppedLogLines } = await import("@/lib/log");
const { withRequest } = await import("@/lib/observe/request-context");

const licenseId = () => crypto.randomBytes(24).toString("base64url");
const apiToken = `gnt_${crypto.randomBytes(32).toString("base64url")}`;
const id = licenseId();
const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const basic = Buffer.from(`LICENSE_ID:${id}`).toString("base64");
const cuid = "cmhx2k9v00000a1b2c3d4e5f6"; // 25 characters
const sha256 = crypto.createHash("sha256").update("x").digest("hex");

describe("redactString", () => {
  it.each([
    ["a license ID alone", id, REDACTED],
    ["a license ID in a sentence", `bad license ${id}.`, `bad license ${REDACTED}.`],
    ["a license ID in a URL path", `/api/v1/licenses/${id}/revoke`, `/api/v1/licenses/${REDACTED}/revoke`],
    ["a license ID in a query string", `/v2/?license=${id}&x=1`, `/v2/?license=${REDACTED}&x=1`],
    ["a license ID as a URL password", `https://LICENSE_ID:${id}@gantry.example/v2/`, `https://LICENSE_ID:${REDACTED}@gantry.example/v2/`],
    ["a license ID in JSON", JSON.stringify({ id }), JSON.stringify({ id: REDACTED })],
    ["a 32-hex-digit value (license-shaped, accepted)", "d41d8cd98f00b204e9800998ecf8427e", REDACTED],
    ["an API token", `token ${apiToken} used`, `token gnt_${REDACTED} used`],
    ["an API token in a header line", `Authorization: Bearer ${apiToken}`, `Authorization: Bearer ${REDACTED}`],
    ["a Basic credential", `authorization: Basic ${basic}`, `authorization: Basic ${REDACTED}`],
    ["a lower-case bearer credential", `bearer abc.DEF-123`, `bearer ${REDACTED}`],
    ["a JWT", `cookie=${jwt}; Path=/`, `cookie=${REDACTED}; Path=/`],
    ["a JWT with an empty signature", `${jwt.split(".").slice(0, 2).join(".")}.`, REDACTED],
    ["a 25-character cuid", `customer ${cuid}`, `customer ${cuid}`],
    ["a SHA-256 hex digest", `sha256:${sha256}`, `sha256:${sha256}`],
    ["a 33-character run", `x${id}`, `x${id}`],
    ["a 31-character run", id.slice(1), id.slice(1)],
    ["a registry id", "reg_0123456789abcdef01234567", "reg_0123456789abcdef01234567"],
    ["a dashed UUID", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"],
    ["a plain word after Basic", "the credentials work (Basic auth)", "the credentials work (Basic auth)"],
    ["prose mentioning a bearer token", "Send `Authorization: Bearer <token>`.", "Send `Authorization: Bearer <token>`."],
    ["a host name", "registry-1.docker.io:443", "registry-1.docker.io:443"],
  ])("%s", (_name, input, expected) => {
    expect(redactString(input)).toBe(expected);
  });

  it("takes linear time on adversarial input", () => {
    const inputs = ["Basic ".repeat(50_000), `${"eyJ-".repeat(50_000)}`, "a".repeat(200_000), `${"gnt_.".repeat(40_000)}`, `Bearer ${" ".repeat(200_000)}x`];
    for (const input of inputs) {
      const start = performance.now();
      redactString(input);
      expect(performance.now() - start).toBeLessThan(500);
    }
  });
});

describe("redact", () => {
  it("masks secret keys, and secret-shaped values in nested strings, arrays, keys, URLs and errors", () => {
    const out = redact({
      password: "hunter2",
      url: `/api/v1/licenses/${id}/file`,
      nested: { list: [`Bearer ${apiToken}`, 42, null], [id]: "keyed by an ID" },
      href: new URL(`https://x.example/?t=${apiToken}`),
      error: new Error(`bad license ${id}`, { cause: new Error(`cause ${id}`) }),
    });
    const text = JSON.stringify(out);
    expect(text).not.toContain(id);
    expect(text).not.toContain(apiToken.slice(4));
    expect(text).not.toContain("hunter2");
    expect(out).toMatchObject({ password: REDACTED, url: `/api/v1/licenses/${REDACTED}/file`, nested: { list: [`Bearer ${REDACTED}`, 42, null] } });
  });
});

describe("log", () => {
  const lines: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    lines.length = 0;
    settings.logLevel = "debug";
  });
  const capture = () =>
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

  it("writes no license ID from an error's message or stack", () => {
    capture();
    log.error("x", { error: new Error(`bad license ${id}`) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(id);
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line).toMatchObject({ level: "error", msg: "x", error: { name: "Error", message: `bad license ${REDACTED}` } });
    expect(line.error.stack).toContain(`bad license ${REDACTED}`);
  });

  it("redacts the message too", () => {
    capture();
    log.warn(`revoked ${id} with ${apiToken}`);
    expect(JSON.parse(lines[0] ?? "{}").msg).toBe(`revoked ${REDACTED} with gnt_${REDACTED}`);
  });

  it("writes the levels GANTRY_LOG_LEVEL lets through, and nothing below", () => {
    capture();
    for (const level of ["debug", "info", "warn", "error"] as const) {
      settings.logLevel = level;
      log.debug("d");
      log.info("i");
      log.warn("w");
      log.error("e");
    }
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg).join("")).toBe("diwe" + "iwe" + "we" + "e");
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ level: "debug", msg: "d", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it("puts the request's id on every line written while serving it, also after an await; a field cannot replace it", async () => {
    capture();
    await withRequest({ id: "req-1", face: "proxy" }, async () => {
      log.info("before");
      await new Promise((r) => setTimeout(r, 1));
      log.warn("after", { requestId: "forged" });
    });
    log.info("outside");
    expect(lines.map((l) => (JSON.parse(l) as { requestId?: string }).requestId)).toEqual(["req-1", "req-1", undefined]);
  });

  it("masks fields under secret-looking keys and secret-shaped values, keeping the rest", () => {
    capture();
    log.info("login", { password: "hunter2", authorization: `Basic ${basic}`, licenseId: id, note: `token ${apiToken}`, url: new URL(`https://x:${id}@example.com/`), teamId: cuid });
    const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(line).toMatchObject({ password: REDACTED, authorization: REDACTED, licenseId: REDACTED, note: `token gnt_${REDACTED}`, teamId: cuid });
    expect(lines[0]).not.toContain(id);
    expect(lines[0]).not.toContain(apiToken);
  });

  it("drops and counts lines while stderr holds more than its bound (a stalled log reader)", () => {
    capture();
    const backlog = vi.spyOn(process.stderr, "writableLength", "get").mockReturnValue(MAX_BACKLOG_BYTES + 1);
    const before = droppedLogLines();
    log.error("lost");
    expect(lines).toHaveLength(0);
    expect(droppedLogLines()).toBe(before + 1);
    backlog.mockReturnValue(0);
    log.error("kept");
    expect(lines).toHaveLength(1);
  });
});
