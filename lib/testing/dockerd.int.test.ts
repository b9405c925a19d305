import { afterAll, describe, expect, it } from "vitest";
import { startRegistry, stopAll } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { startDockerd, stopAllDockerd } from "./dockerd";

/** The Docker engine harness itself: a private dockerd pulls from a real distribution over plain http (127.0.0.0/8 is insecure by default). */
afterAll(async () => {
  await stopAllDockerd();
  await stopAll();
  cleanupImages();
});

describe("dockerd harness", () => {
  it("starts a private engine that logs in to and pulls from a real registry, then stops and leaves nothing", async () => {
    const reg = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
    const { digest } = await pushImage(await buildImage({ files: { "d.txt": "docker\n" } }), { registry: reg, repo: "acme/d", tag: "1", creds: "alice:alice-pw" });
    const d = await startDockerd();
    expect((await d.docker(["login", reg.host, "-u", "alice", "--password-stdin"], { input: "alice-pw" })).code).toBe(0);
    const pull = await d.docker(["pull", `${reg.host}/acme/d:1`]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain(digest);
    const dir = d.dir;
    await d.stop();
    const fs = await import("node:fs");
    expect(fs.existsSync(dir)).toBe(false);
  });
});
