import { describe, expect, it } from "vitest";
import { extractImages } from "./extract";
import { extractImagesOffThread } from "./extract-off-thread";

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  template:
    spec:
      containers:
        - name: api
          image: quay.io/acme/api:1.0
`;

/** Watches the event loop: the longest gap between 5 ms ticks while `run` is pending. */
async function longestStall<T>(run: Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  const [result] = await Promise.allSettled([run]);
  clearInterval(timer);
  return { result, stallMs };
}

describe("manifest extraction off the main thread", () => {
  it("gives the same images as extractImages, with file, document and line", async () => {
    const files = [{ name: "app.yaml", content: `${deployment}---\n${deployment.replace("api:1.0", "worker:2.0")}` }];
    expect(await extractImagesOffThread(files)).toEqual(extractImages(files));
  });

  it("keeps ManifestError (file, document, line) for invalid YAML", async () => {
    await expect(extractImagesOffThread([{ name: "bad.yaml", content: "a: [1\n" }])).rejects.toMatchObject({ name: "ManifestError", file: "bad.yaml", code: "YAML", message: expect.stringMatching(/^bad\.yaml, document 1, line \d+/) });
  });

  it("stops a pathological parse at its deadline without stalling the event loop", async () => {
    // 2 MiB (the input limit) of nested flow sequences: seconds to tens of seconds of yaml parsing here.
    const hostile = [{ name: "nested.yaml", content: "[".repeat(2 * 1024 * 1024) }];
    const started = performance.now();
    await extractImagesOffThread([{ name: "warm.yaml", content: deployment }]); // start the worker first
    const { result, stallMs } = await longestStall(extractImagesOffThread(hostile, { deadlineMs: 1000 }));
    expect(result.status).toBe("rejected");
    expect((result as PromiseRejectedResult).reason).toMatchObject({ name: "ManifestError", code: "TOO_COMPLEX" });
    expect(performance.now() - started).toBeLessThan(4000);
    // On the main thread this parse would stall it for seconds; off it, only scheduling noise remains.
    expect(stallMs).toBeLessThan(500);
    // The next parse gets a fresh worker and works.
    expect((await extractImagesOffThread([{ name: "ok.yaml", content: deployment }])).occurrences).toHaveLength(1);
  });
});
