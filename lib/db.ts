import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma as SqlitePrisma } from "@/generated/prisma/client";
import { PrismaClient as PgPrismaClient, type Prisma as PgPrisma } from "@/generated/prisma-pg/client";
import { isPostgresUrl } from "@/lib/db-provider";
import { SqliteAdapterFactory } from "@/lib/db-sqlite";
import { serializeWrites } from "@/lib/db-write-turn";
import { env } from "@/lib/env";
import { processWide } from "./process-wide";

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
const log: { emit: "event"; level: "query" }[] = countQueries ? [{ emit: "event", level: "query" }] : [];

/**
 * The SQLite client (the embedded default). Its type is the public `Db` type.
 * Its connection runs in WAL mode with a busy timeout and begins transactions
 * IMMEDIATE (lib/db-sqlite.ts: a PRAGMA of the connection setup, the one place
 * outside migrations that speaks SQLite's dialect), and its writes wait their
 * turn behind the pull-log writer thread's batches on the event loop, not in
 * SQLite's busy handler (lib/db-write-turn.ts).
 */
function createSqliteClient(url: string) {
  return new PrismaClient({ adapter: serializeWrites(new SqliteAdapterFactory(url)), omit: defaultOmit, log });
}

/**
 * The PostgreSQL client: generated from prisma/postgres/schema.prisma, itself
 * generated from the SQLite schema (lib/ops/db-schema-postgres.ts), so both
 * clients have the same models and API. Sessions run in UTC.
 */
function createPostgresClient(url: string) {
  return new PgPrismaClient({ adapter: new PrismaPg({ connectionString: url, options: "-c TimeZone=UTC" }), omit: defaultOmit, log });
}

export type Db = ReturnType<typeof createSqliteClient>;
/** A transaction client: what `db.$transaction(async (tx) => …)` hands over. */
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/**
 * The PostgreSQL client is used where a `Db` (the SQLite client's type) is
 * expected. TypeScript cannot relate two generated clients' generic method
 * signatures, so what makes them interchangeable is checked here instead, at
 * compile time: the same client members, the same models, and for every model
 * the same row (scalar) types, relations and filterable fields. PostgreSQL only
 * accepts more (e.g. `mode: "insensitive"` on string filters), which Gantry
 * does not use. This stops compiling the day the two schemas drift.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type PgDb = ReturnType<typeof createPostgresClient>;
type SqliteModels = SqlitePrisma.TypeMap["model"];
type PgModels = PgPrisma.TypeMap["model"];
type ModelsMatch = {
  [M in keyof SqliteModels]: M extends keyof PgModels
    ? Same<SqliteModels[M]["payload"]["scalars"], PgModels[M]["payload"]["scalars"]> extends true
      ? Same<keyof SqliteModels[M]["payload"]["objects"], keyof PgModels[M]["payload"]["objects"]> extends true
        ? Same<keyof SqliteModels[M]["fields"], keyof PgModels[M]["fields"]>
        : false
      : false
    : false;
};
const clientsMatch: [Same<keyof Db, keyof PgDb>, Same<keyof SqliteModels, keyof PgModels>, Same<ModelsMatch[keyof ModelsMatch], true>] = [true, true, true];
void clientsMatch;

function asDb(client: PgDb): Db {
  return client as unknown as Db;
}

function createClient(url: string): Db {
  return isPostgresUrl(url) ? asDb(createPostgresClient(url)) : createSqliteClient(url);
}

/** The process-wide Prisma client (one per process, kept across dev reloads). */
export const db: Db = processWide("db", () => createClient(env().databaseUrl));
if (countQueries) db.$on("query", (q) => void counted.queries.push(q.query));

/** The SQL sent since the last call (only with GANTRY_COUNT_DB_QUERIES=1; else always empty). */
export function takeQueryLog(): string[] {
  return counted.queries.splice(0);
}
