import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TrustedProxies } from "@/lib/env";
import { acceptableRequestId, requestIdFor } from "@/lib/observe/request-id";

const req = (peer: string, id?: string) => ({ socket: { remoteAddress: peer }, headers: id === undefined ? {} : { "x-request-id": id } }) as never;
const none: TrustedProxies = { kind: "none" };
const oneHop: TrustedProxies = { kind: "hops", hops: 1 };
const lan: TrustedProxies = { kind: "cidrs", cidrs: ["10.0.0.0/8"] };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("requestIdFor", () => {
  it("gives every request a new random UUID", () => {
    const a = requestIdFor(req("203.0.113.7"), none);
    const b = requestIdFor(req("203.0.113.7"), none);
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
  });

  it("ignores X-Request-Id unless the socket peer is a trusted proxy", () => {
    expect(requestIdFor(req("203.0.113.7", "client-chosen-id"), none)).toMatch(UUID);
    // A CIDR list: the peer must be in it.
    expect(requestIdFor(req("203.0.113.7", "client-chosen-id"), lan)).toMatch(UUID);
    expect(requestIdFor(req("10.1.2.3", "lb-7f3a.2"), lan)).toBe("lb-7f3a.2");
    expect(requestIdFor(req("::ffff:10.1.2.3", "lb-7f3a.2"), lan)).toBe("lb-7f3a.2");
    expect(requestIdFor(req("198.51.100.1", "Root=1-67891233-abcdef012345678912345678"), oneHop)).toBe("Root=1-67891233-abcdef012345678912345678");
  });

  it("replaces a trusted proxy's id that is not sane", () => {
    for (const bad of ["", "a".repeat(129), "has space", "new\nline", "quote\"", "<script>", "ünïcode"]) {
      expect(requestIdFor(req("10.1.2.3", bad), lan), JSON.stringify(bad)).toMatch(UUID);
    }
  });
});

describe("acceptableRequestId", () => {
  it("keeps common request id formats", () => {
    for (const id of [crypto.randomUUID(), "01HF8Z3Q5J6K7M8N9P0R1S2T3V", "abc.def:1", "Root=1-5759e988-bd862e3fe1be46a994272793", "a/b+c=="]) {
      expect(acceptableRequestId(id)).toBe(id);
    }
  });

  it("refuses values the log would mask (the id is written unmasked): license-ID-shaped, API tokens, JWTs", () => {
    const licenseShaped = crypto.randomBytes(24).toString("base64url"); // 32 characters, like a license ID
    const nginx = crypto.randomBytes(16).toString("hex"); // nginx's $request_id: 32 hex digits, masked too
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig";
    for (const id of [licenseShaped, nginx, `req:${licenseShaped}`, `gnt_${licenseShaped}`, jwt]) expect(acceptableRequestId(id), id).toBeNull();
  });

  it("refuses a header sent twice", () => {
    expect(acceptableRequestId(["a", "b"])).toBeNull();
  });
});
