import nextCoreWebVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

const config = [
  ...nextCoreWebVitals,
  ...nextTypescript,
  {
    ignores: ["node_modules/**", ".next/**", "generated/**", "data/**", "test-results/**", "playwright-report/**", "next-env.d.ts"],
  },
  {
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through lib/env.ts." },
      ],
    },
  },
  {
    // CommonJS preload files (node --require) cannot use import.
    files: ["**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Specs take `test` from e2e/test.ts, which fails a test whose pages log console errors.
    files: ["e2e/**/*.spec.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@playwright/test", message: "Import test and expect from ./test (it checks the browser console)." }] },
      ],
    },
  },
  {
    files: ["lib/env.ts", "playwright.config.ts", "e2e/**", "lib/testing/**", "lib/deploy/**", "**/*.test.ts", "lib/ops/**", "lib/server/**"],
    rules: { "no-restricted-properties": "off" },
  },
];

export default config;
