import { test as base, expect, type BrowserContext, type ConsoleMessage, type Page } from "@playwright/test";

/**
 * Every spec's `test`: Playwright's, plus a check that no page of the test
 * logged an error to the browser console or threw (a missing icon, a hydration
 * mismatch, a blocked script…). A test that makes the browser log an error on
 * purpose (a CSP violation it provokes, a refused request) says which with
 * `allowConsoleErrors(/…/)`; anything else fails the test. The 404 status of
 * a page the test itself opened (a not-found page it asserts on) is not an
 * error of the page.
 */
interface ConsoleFixtures {
  /** Errors matching one of these are expected by the test. */
  allowConsoleErrors: (...patterns: RegExp[]) => void;
  consoleGuard: void;
}

const allowed = new WeakMap<object, RegExp[]>();

export const test = base.extend<ConsoleFixtures>({
  allowConsoleErrors: async ({}, provide, testInfo) => {
    const list: RegExp[] = [];
    allowed.set(testInfo, list);
    await provide((...patterns) => void list.push(...patterns));
  },
  consoleGuard: [
    async ({ browser, context, allowConsoleErrors }, provide, testInfo) => {
      void allowConsoleErrors;
      const errors: string[] = [];
      const watch = (page: Page) => {
        page.on("console", (m: ConsoleMessage) => {
          if (m.type() !== "error") return;
          const source = m.location().url;
          // A page the test opened that answered 404 (another team's app, a page that does not exist):
          // the browser logs the document's own status. A missing icon, script or image is another URL.
          if (/status of 404/.test(m.text()) && source === page.url()) return;
          errors.push(`${page.url()}: ${m.text()}${source && source !== page.url() ? ` (${source})` : ""}`);
        });
        page.on("pageerror", (e) => errors.push(`${page.url()}: uncaught ${e.message}`));
      };
      // The test's own context, and every context it opens (a second user, a phone).
      const watchContext = (c: BrowserContext) => {
        for (const p of c.pages()) watch(p);
        c.on("page", watch);
      };
      watchContext(context);
      browser.on("context", watchContext);
      try {
        await provide();
      } finally {
        browser.off("context", watchContext);
      }
      const expected = allowed.get(testInfo) ?? [];
      const unexpected = errors.filter((e) => !expected.some((r) => r.test(e)));
      expect(unexpected, "the browser console logged errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
export type { APIRequestContext, APIResponse, Browser, BrowserContext, Locator, Page, Request, Response } from "@playwright/test";
