import { describe, expect, it } from "vitest";
import { humanBytes } from "./bytes";

describe("humanBytes (pretty-bytes, binary units)", () => {
  it("uses binary units with at most one decimal", () => {
    expect(humanBytes(0)).toBe("0 B");
    expect(humanBytes(1023)).toBe("1,023 B");
    expect(humanBytes(1024)).toBe("1 KiB");
    expect(humanBytes(1536)).toBe("1.5 KiB");
    expect(humanBytes(20 * 2 ** 30)).toBe("20 GiB");
    expect(humanBytes(3 * 2 ** 50)).toBe("3 PiB");
  });

  it("drops the decimals for axis ticks, never showing a larger value than there is", () => {
    expect(humanBytes(715.3 * 2 ** 20, 0)).toBe("715 MiB");
    expect(humanBytes(1024 * 1024 - 1)).toBe("1,023.9 KiB");
  });

  it("shows a dash for what is not a byte count", () => {
    expect(humanBytes(-1)).toBe("–");
    expect(humanBytes(Number.NaN)).toBe("–");
  });
});
