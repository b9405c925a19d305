import { describe, expect, it } from "vitest";
import { humanBytes } from "./bytes";

describe("humanBytes", () => {
  it("uses binary units with at most one decimal", () => {
    expect(humanBytes(0)).toBe("0 B");
    expect(humanBytes(1023)).toBe("1,023 B");
    expect(humanBytes(1024)).toBe("1 KiB");
    expect(humanBytes(1536)).toBe("1.5 KiB");
    expect(humanBytes(20 * 2 ** 30)).toBe("20 GiB");
    expect(humanBytes(3 * 2 ** 50)).toBe("3 PiB");
    expect(humanBytes(5 * 2 ** 60)).toBe("5,120 PiB");
  });

  it("rounds to whole units for axis ticks", () => {
    expect(humanBytes(715.3 * 2 ** 20, 0)).toBe("715 MiB");
    expect(humanBytes(1023.7 * 2 ** 20, 0)).toBe("1 GiB");
  });

  it("never prints 1,024 of a unit", () => {
    expect(humanBytes(1024 * 1024 - 1)).toBe("1 MiB");
    expect(humanBytes(2 ** 30 - 20)).toBe("1 GiB");
  });

  it("shows a dash for what is not a byte count", () => {
    expect(humanBytes(-1)).toBe("–");
    expect(humanBytes(Number.NaN)).toBe("–");
  });
});
