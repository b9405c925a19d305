import { describe, expect, it } from "vitest";
import { resolveClientIp } from "@/lib/http/client-ip";

describe("resolveClientIp", () => {
  it("uses the socket address and ignores X-Forwarded-For unless told to trust it", () => {
    expect(resolveClientIp("::ffff:10.1.2.3", "1.1.1.1", false)).toBe("10.1.2.3");
    expect(resolveClientIp("10.1.2.3", "1.1.1.1, 10.0.0.1", true)).toBe("1.1.1.1");
    expect(resolveClientIp("::1", undefined, true)).toBe("::1");
    expect(resolveClientIp(undefined, undefined, false)).toBeNull();
  });
});
