import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Migrates the integration project's database with the real migrations:
 * prisma.config.ts picks prisma/migrations for a SQLite file: URL and
 * prisma/postgres/migrations for a postgresql:// URL.
 */
export default function setup(project: TestProject) {
  const env = project.config.env as Record<string, string>;
  const root = path.resolve(__dirname, "../..");
  execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return () => {
    const dir = env.GANTRY_DATA_DIR;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };
}
