import { expect, test } from "./test";

/** The load balancer's probes on the production server (answered before Next, no session). */
test("/healthz and /readyz answer JSON without signing in", async ({ request }) => {
  const health = await request.get("/healthz", { maxRedirects: 0 });
  expect(health.status()).toBe(200);
  expect(health.headers()["content-type"]).toBe("application/json");
  expect(await health.json()).toMatchObject({ status: "ok" });

  const ready = await request.get("/readyz", { maxRedirects: 0 });
  expect(ready.status()).toBe(200);
  expect(ready.headers()["cache-control"]).toBe("no-store");
  expect(await ready.json()).toEqual({ status: "ready", checks: { db: "ok", migrations: "ok", kek: "ok", disk: "ok" }, failing: [] });
});
