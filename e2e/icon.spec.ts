import { expect, test } from "./test";

// Browsers ask for /favicon.ico on pages whose icon link they have not read (Next's 404 pages
// among them) and log a 404 for it as a console error on the page.
test("/favicon.ico leads to Gantry's icon, and a not-found page logs nothing to the console", async ({ page, request }) => {
  const icon = await request.get("/favicon.ico");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toContain("image/svg+xml");
  expect(icon.url()).toMatch(/\/icon\.svg$/);

  const res = await page.goto("/no-such-page");
  expect(res?.status()).toBe(404);
  await page.waitForLoadState("load");
  // The console guard (./test) fails the test on any error the page logged, the icon's included.
});
