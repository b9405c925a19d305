import "server-only";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "@/generated/prisma/client";
import { env } from "@/lib/env";

/**
 * Secret columns are never selected unless a query asks for them by name
 * (`omit: { passwordHash: false }`), so they cannot leak through a careless
 * `findMany` into a page, an RSC payload or an API response.
 */
const defaultOmit = {
  user: { passwordHash: true },
  apiToken: { tokenHash: true },
  encryptedSecret: { ciphertext: true, iv: true, authTag: true, wrappedDek: true },
} as const;

/** GANTRY_COUNT_DB_QUERIES=1 (tests measuring a hot path's cost) counts every query the client sends. */
const countQueries = env().countDbQueries;
const counted = { queries: [] as string[] };

function createClient(url: string) {
  return new PrismaClient({
    adapter: new PrismaBetterSQLite3({ url, timeout: 10_000 }),
    omit: defaultOmit,
    ...(countQueries ? { log: [{ emit: "event" as const, level: "query" as const }] } : {}),
  });
}

export type Db = ReturnType<typeof createClient>;
/** A transaction client: what `db.$transaction(async (tx) => …)` hands over. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

const globalForDb = globalThis as unknown as { gantryDb?: Db };

/** The process-wide Prisma client (one per process, kept across dev reloads). */
export const db: Db = (globalForDb.gantryDb ??= createClient(env().databaseUrl));
if (countQueries) (db as unknown as { $on(e: "query", f: (q: { query: string }) => void): void }).$on("query", (q) => void counted.queries.push(q.query));

/** The SQL sent since the last call (only with GANTRY_COUNT_DB_QUERIES=1; else always empty). */
export function takeQueryLog(): string[] {
  return counted.queries.splice(0);
}
