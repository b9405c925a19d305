import fs from "node:fs";
import { afterAll, describe, expect, it, vi } from "vitest";
import { startContainerd, stopAllContainerd } from "./containerd";

afterAll(() => stopAllContainerd());

describe("containerd test harness", () => {
  it("starts a private daemon on its own socket with only the plugins the tests need, and stop removes everything", async () => {
    const cd = await startContainerd();
    expect(fs.existsSync(cd.address)).toBe(true);
    const plugins = await cd.ctr(["plugins", "ls"]);
    expect(plugins.code).toBe(0);
    const loaded = plugins.stdout.split("\n").slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(" "));
    expect(loaded).toContain("io.containerd.snapshotter.v1 native");
    for (const absent of ["io.containerd.grpc.v1 cri", "io.containerd.snapshotter.v1 overlayfs", "io.containerd.runtime.v2 task", "io.containerd.internal.v1 opt"]) {
      expect(loaded).not.toContain(absent);
    }
    expect(plugins.stdout).not.toMatch(/\berror\b/);
    expect(await cd.images()).toEqual([]);
    const slow = await cd.ctr(["images", "pull", "--plain-http", "127.0.0.1:9/none:1"], { timeoutMs: 1 });
    expect(slow).toMatchObject({ code: null, timedOut: true });
    await cd.stop();
    expect(fs.existsSync(cd.dir)).toBe(false);
    await cd.stop(); // idempotent
  });

  it("refuses to start without root, with an error that says so", async () => {
    const spy = vi.spyOn(process, "getuid").mockReturnValue(1000);
    try {
      await expect(startContainerd()).rejects.toThrow(/containerd needs root.*uid 1000/);
    } finally {
      spy.mockRestore();
    }
  });
});
