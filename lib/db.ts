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

function createClient(url: string) {
  return new PrismaClient({
    adapter: new PrismaBetterSQLite3({ url, timeout: 10_000 }),
    omit: defaultOmit,
  });
}

export type Db = ReturnType<typeof createClient>;
/** A transaction client: what `db.$transaction(async (tx) => …)` hands over. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

const globalForDb = globalThis as unknown as { gantryDb?: Db };

/** The process-wide Prisma client (one per process, kept across dev reloads). */
export const db: Db = (globalForDb.gantryDb ??= createClient(env().databaseUrl));
