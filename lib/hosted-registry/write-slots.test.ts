import { describe, expect, it } from "vitest";
import { ProxyError } from "@/lib/proxy/errors";
import { poolKind } from "./storage";
import { takeWriteSlot, writeSlotsInUse } from "./write-slots";

const LIMIT = 16; // GANTRY_REGISTRY_WRITE_CONNECTIONS_PER_TEAM's default

describe("write slots per team", () => {
  it("gives a team its 16 at once, hands a released one to the next waiter in order, and leaves other teams alone", async () => {
    const releases = await Promise.all(Array.from({ length: LIMIT }, () => takeWriteSlot("team-a")));
    expect(writeSlotsInUse("team-a")).toBe(LIMIT);
    const order: number[] = [];
    const waiting = [1, 2].map((n) => takeWriteSlot("team-a", undefined, 5_000).then((release) => (order.push(n), release)));
    // Another team is not behind team A.
    const other = await takeWriteSlot("team-b", undefined, 10);
    expect(writeSlotsInUse("team-b")).toBe(1);
    other();
    releases[0]!();
    releases[1]!();
    const [r1, r2] = await Promise.all(waiting);
    expect(order).toEqual([1, 2]);
    expect(writeSlotsInUse("team-a")).toBe(LIMIT);
    for (const r of [...releases.slice(2), r1!, r2!]) r();
    expect(writeSlotsInUse("team-a")).toBe(0);
  });

  it("refuses after the wait with 429 TOOMANYREQUESTS and Retry-After, and a waiter whose client left gives its turn up", async () => {
    const releases = await Promise.all(Array.from({ length: LIMIT }, () => takeWriteSlot("team-c")));
    const refused = await takeWriteSlot("team-c", undefined, 50).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProxyError);
    expect(refused).toMatchObject({ status: 429, code: "TOOMANYREQUESTS", headers: { "retry-after": "10" } });
    const left = new AbortController();
    const abandoned = takeWriteSlot("team-c", left.signal, 5_000).catch(() => "aborted");
    const next = takeWriteSlot("team-c", undefined, 5_000);
    left.abort();
    expect(await abandoned).toBe("aborted");
    releases[0]!();
    (await next)();
    // Released twice: counted once.
    releases[0]!();
    for (const r of releases.slice(1)) r();
    expect(writeSlotsInUse("team-c")).toBe(0);
  });
});

describe("storage pools", () => {
  it("sends streamed bodies to the uploads pool, relayed blob GETs to the blobs pool, everything else to the requests pool", async () => {
    const { Readable } = await import("node:stream");
    expect(poolKind({ method: "PATCH", path: "/v2/a/r/blobs/uploads/u?_state=x", body: Readable.from([]) })).toBe("uploads");
    expect(poolKind({ method: "PUT", path: "/v2/a/r/manifests/1", body: Buffer.from("{}") })).toBe("requests");
    expect(poolKind({ method: "GET", path: "/v2/a/r/blobs/sha256:abc", body: null })).toBe("blobs");
    expect(poolKind({ method: "HEAD", path: "/v2/a/r/blobs/sha256:abc", body: null })).toBe("requests");
    expect(poolKind({ method: "GET", path: "/v2/a/r/manifests/sha256:abc", body: null })).toBe("requests");
    expect(poolKind({ method: "POST", path: "/v2/a/r/blobs/uploads/", body: null })).toBe("requests");
  });
});
