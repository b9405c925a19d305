import { describe, expect, it } from "vitest";
import type { TrustedProxies } from "@/lib/env";
import { clientKey, resolveClientIp } from "@/lib/net/client-ip";

const req = (socket: string | undefined, xff?: string) => ({ socket: { remoteAddress: socket }, headers: xff === undefined ? {} : { "x-forwarded-for": xff } }) as never;
const none: TrustedProxies = { kind: "none" };
const oneHop: TrustedProxies = { kind: "hops", hops: 1 };

describe("resolveClientIp", () => {
  it("uses the socket address and ignores X-Forwarded-For unless proxies are trusted", () => {
    expect(resolveClientIp(req("::ffff:10.1.2.3", "1.1.1.1"), none)).toBe("10.1.2.3");
    expect(resolveClientIp(req("::1"), oneHop)).toBe("::1");
    expect(resolveClientIp(req(undefined), none)).toBeNull();
  });

  it("takes the right-most hop a trusted proxy wrote, so a client cannot pick its own address", () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; its proxy appended the real peer 1.2.3.4.
    expect(resolveClientIp(req("10.0.0.5", "6.6.6.6, 1.2.3.4"), oneHop)).toBe("1.2.3.4");
    expect(resolveClientIp(req("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9"), { kind: "hops", hops: 2 })).toBe("1.2.3.4");
    expect(resolveClientIp(req("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.9"), { kind: "cidrs", cidrs: ["10.0.0.0/8"] })).toBe("1.2.3.4");
  });

  it("with a CIDR list, a peer outside it is the client whatever the header says", () => {
    expect(resolveClientIp(req("203.0.113.7", "6.6.6.6"), { kind: "cidrs", cidrs: ["10.0.0.0/8"] })).toBe("203.0.113.7");
  });
});

describe("clientKey", () => {
  it("groups IPv6 clients by /64 and keeps IPv4 as is", () => {
    expect(clientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2::1")).toBe(clientKey("2001:db8:1:2:ffff::9"));
    expect(clientKey("2001:db8:1:3::1")).not.toBe(clientKey("2001:db8:1:2::1"));
    expect(clientKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey(null)).toBeNull();
  });
});
