/**
 * Applies pending migrations to the database named by DATABASE_URL (default:
 * data/gantry.db): `npm run db:migrate`. Safe to run on every start.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { env } from "../env";

const root = path.resolve(__dirname, "../..");
const file = env().databaseUrl.replace(/^file:/, "");
fs.mkdirSync(path.dirname(path.resolve(root, file)), { recursive: true });
execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
});
