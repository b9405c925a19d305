import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "./test";
import { createToken, seedOwner, signIn } from "./fixtures";

/**
 * The Images page streams the preview; when the browser goes away mid-stream,
 * Gantry stops probing (the request's abort signal reaches every probe).
 */
let slow: http.Server;
let host = "";
let received = 0;

test.beforeAll(async () => {
  slow = http.createServer((_req, res) => {
    received++;
    setTimeout(() => res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'), 500);
  });
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(slow.address() as AddressInfo).port}`;
});
test.afterAll(() => {
  slow.closeAllConnections();
  slow.close();
});

test("closing the stream stops the probes", async ({ page }) => {
  const owner = seedOwner("abort");
  const api = createToken(owner.email, owner.team.slug);
  const slug = `abort-${Date.now().toString(36)}`;
  expect((await page.request.post("/api/v1/apps", { headers: { Authorization: `Bearer ${api}` }, data: { name: "Abort", slug } })).status()).toBe(201);
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/images`);

  const images = Array.from({ length: 48 }, (_, i) => `${host}/acme/img${i}:1`);
  // A client with the browser's session starts the streamed preview, reads the first row, then
  // closes its connection. Not the page's own fetch: in one CI run Chromium, its fetch aborted,
  // kept the connection open and read the stream to its end, so the server never saw it leave;
  // what Gantry owes is to stop once the connection closes, and this client does close it.
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const base = new URL(page.url());
  const firstLine = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      new URL(`/t/${owner.team.slug}/apps/${slug}/images/preview`, base),
      { method: "POST", headers: { cookie, origin: base.origin, "content-type": "application/json" } },
      (res) => {
        let buffered = "";
        res.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("utf8");
          const end = buffered.indexOf("\n");
          if (end < 0) return;
          req.destroy(); // the client goes away mid-stream
          resolve(buffered.slice(0, end));
        });
        res.on("error", () => undefined);
      },
    );
    req.on("error", (e) => (req.destroyed ? undefined : reject(e)));
    req.end(JSON.stringify({ images }));
  });
  expect(JSON.parse(firstLine ?? "{}")).toMatchObject({ type: "image" });
  const atAbort = received;
  // Without cancellation the remaining ~40 images would keep being probed (8 at a time, 0.5 s each) for ~3 s.
  await page.waitForTimeout(2500);
  expect(received - atAbort).toBeLessThanOrEqual(8);
  expect(received).toBeLessThan(images.length);
});
