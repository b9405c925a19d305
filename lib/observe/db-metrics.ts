import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { observeDbStatement, type DbStatement } from "./metrics";

type SqlDriverAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type Transaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;

/** What lib/db.ts hands Prisma, for either database: a driver adapter factory. */
interface AdapterFactory {
  readonly provider: SqlDriverAdapter["provider"];
  readonly adapterName: string;
  connect(): Promise<SqlDriverAdapter>;
  connectToShadowDb(): Promise<SqlDriverAdapter>;
}

const KEYWORD = /^\s*([A-Za-z]+)/;
const KINDS: Record<string, DbStatement> = { select: "select", with: "select", insert: "insert", update: "update", delete: "delete" };

function statementOf(sql: string): DbStatement {
  const word = KEYWORD.exec(sql)?.[1];
  return (word && KINDS[word.toLowerCase()]) || "other";
}

function timed<T>(sql: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const done = () => observeDbStatement(statementOf(sql), (performance.now() - started) / 1000);
  const p = run();
  p.then(done, done);
  return p;
}

function timedTransaction(tx: Transaction): Transaction {
  const started = performance.now();
  const end = () => observeDbStatement("transaction", (performance.now() - started) / 1000);
  return {
    provider: tx.provider,
    adapterName: tx.adapterName,
    options: tx.options,
    queryRaw: (query) => timed(query.sql, () => tx.queryRaw(query)),
    executeRaw: (query) => timed(query.sql, () => tx.executeRaw(query)),
    commit: () => tx.commit().finally(end),
    rollback: () => tx.rollback().finally(end),
  };
}

/**
 * Times every statement the Prisma client sends (gantry_db_query_duration_seconds,
 * by kind: select, insert, update, delete; "transaction" from its begin to its
 * commit or rollback), at the driver adapter: two clock reads and one histogram
 * update per statement, with no per-query event or string building in Prisma.
 */
export function timeQueries(factory: AdapterFactory): AdapterFactory {
  const wrap = (adapter: SqlDriverAdapter): SqlDriverAdapter => ({
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => timed(query.sql, () => adapter.queryRaw(query)),
    executeRaw: (query) => timed(query.sql, () => adapter.executeRaw(query)),
    executeScript: (script) => adapter.executeScript(script),
    dispose: () => adapter.dispose(),
    ...(adapter.getConnectionInfo ? { getConnectionInfo: () => adapter.getConnectionInfo!() } : {}),
    startTransaction: async (isolationLevel) => timedTransaction(await adapter.startTransaction(isolationLevel)),
  });
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => wrap(await factory.connect()),
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
}
