import { test as base, expect, type BrowserContext, type ConsoleMessage, type Page } from "@playwright/test";

/**
 * Every spec's `test`: Playwright's, plus a check that no page of the test
 * logged an error to the browser console or threw (a missing icon, a hydration
 * mismatch, a blocked script…). A test that makes the browser log an error on
 * purpose — a 404 page it asserts on, a refused request — says which with
 * `allowConsoleErrors(/…/)`; anything else fails the test.
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
          if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
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
