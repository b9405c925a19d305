import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { isPostgresUrl } from "@/lib/db-provider";
import { env } from "@/lib/env";

/**
 * Everything the test database holds, as bytes: SQLite's file and its WAL (the
 * newest rows are there until a checkpoint), or a data-only pg_dump of
 * PostgreSQL. For the tests that check a secret never reaches the database.
 */
export function databaseBytes(): Buffer {
  if (isPostgresUrl(env().databaseUrl)) return execFileSync("pg_dump", ["--data-only", "--no-owner", env().databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
  const file = env().databaseUrl.replace(/^file:/, "");
  return Buffer.concat([fs.readFileSync(file), fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
}

/** Everything this process writes to stderr (the log) from now on, still written through. */
export function captureStderr(): { text(): string; stop(): void } {
  const chunks: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return { text: () => chunks.join(""), stop: () => void (process.stderr.write = original) };
}
