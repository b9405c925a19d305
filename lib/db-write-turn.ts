import type { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

type SqlDriverAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type Transaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;
type SqlQuery = Parameters<SqlDriverAdapter["queryRaw"]>[0];

/** What lib/db.ts hands Prisma for SQLite: anything that connects to a SQLite driver adapter. */
export interface SqliteAdapterFactory {
  readonly provider: "sqlite";
  readonly adapterName: string;
  connect(): Promise<SqlDriverAdapter>;
  connectToShadowDb(): Promise<SqlDriverAdapter>;
}

/**
 * SQLite writers of this process take turns on the event loop instead of in
 * SQLite's busy handler.
 *
 * The serving thread's connection is synchronous (better-sqlite3): a write
 * that finds the write lock taken sleeps in SQLite's busy handler (1, 2, 5,
 * 10 … 100 ms naps) with the whole event loop stopped. The pull-log writer
 * thread (lib/proxy/pull-log.ts) holds that lock for a whole batch; measured
 * under 200 connections, the serving thread slept there 10 times in 40 s, up
 * to 270 ms at a time, every open request waiting with it. So the pull log
 * marks each batch it hands its thread (`asExternalWriter`), and a write on
 * this process's connection that would meet it (a plain write statement, or
 * a transaction about to begin) first waits, asynchronously, for the batch
 * to be committed; the next batch waits for transactions begun meanwhile.
 * Reads never wait (WAL: readers do not block on the writer), and statements
 * inside an open transaction of this connection run as before (they are that
 * transaction's). Other processes (the CLI) still meet the busy handler, rarely.
 *
 * Only for SQLite: `serializeWrites` installs it on the connection; without
 * it (PostgreSQL, whose driver waits off the event loop) `asExternalWriter`
 * just runs its function.
 */
let installed = false;
/** The batch at the writer thread, settled when it is committed (or failed). */
let external: Promise<void> | null = null;
let openTransactions = 0;
/** Writes of this connection waiting for a batch: the next batch waits for them, so they cannot starve. */
let waitingWrites = 0;
let localsDone: (() => void)[] = [];

/** As long as SQLite's busy timeout (lib/db.ts): past it, a waiting write would have failed anyway. */
const MAX_TURN_MS = 10_000;
const WRITE = /^\s*(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i;

/** Runs `write` (another connection writing, e.g. the pull-log thread) once no batch, transaction or waiting write of this connection is ahead of it. */
export async function asExternalWriter<T>(write: () => Promise<T>): Promise<T> {
  if (!installed) return write();
  while (external || openTransactions > 0 || waitingWrites > 0) {
    if (external) await external;
    else await new Promise<void>((resolve) => localsDone.push(resolve));
  }
  let settle!: () => void;
  const turn = new Promise<void>((resolve) => (settle = resolve));
  external = turn;
  const release = () => {
    if (external === turn) external = null;
    settle();
  };
  // A writer that never answers must not hold this connection's writes forever:
  // past SQLite's own busy timeout they go ahead and meet its busy handler, as before.
  const timer = setTimeout(release, MAX_TURN_MS).unref();
  try {
    return await write();
  } finally {
    clearTimeout(timer);
    release();
  }
}

function wakeExternal(): void {
  if (openTransactions > 0 || waitingWrites > 0) return;
  const waiting = localsDone;
  localsDone = [];
  for (const resolve of waiting) resolve();
}

/** Runs a write of this connection, after the batch in progress if there is one. */
async function inTurn<T>(run: () => Promise<T>): Promise<T> {
  if (!external) return run();
  waitingWrites++;
  try {
    while (external) await external;
    return await run();
  } finally {
    waitingWrites--;
    wakeExternal();
  }
}

function closeTransaction(): void {
  openTransactions--;
  wakeExternal();
}

/** A write statement outside this connection's transactions (inside one, it is that transaction's and runs). */
function isWrite(query: SqlQuery): boolean {
  return openTransactions === 0 && WRITE.test(query.sql);
}

function serializeAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => (isWrite(query) ? inTurn(() => adapter.queryRaw(query)) : adapter.queryRaw(query)),
    executeRaw: (query) => (isWrite(query) ? inTurn(() => adapter.executeRaw(query)) : adapter.executeRaw(query)),
    executeScript: (script) => (openTransactions === 0 ? inTurn(() => adapter.executeScript(script)) : adapter.executeScript(script)),
    dispose: () => adapter.dispose(),
    ...(adapter.getConnectionInfo ? { getConnectionInfo: () => adapter.getConnectionInfo!() } : {}),
    async startTransaction(isolationLevel): Promise<Transaction> {
      const tx = await inTurn(async () => {
        openTransactions++; // from here the next batch waits for this transaction
        try {
          return await adapter.startTransaction(isolationLevel);
        } catch (e) {
          closeTransaction();
          throw e;
        }
      });
      let open = true;
      const close = () => {
        if (open) closeTransaction();
        open = false;
      };
      return {
        provider: tx.provider,
        adapterName: tx.adapterName,
        options: tx.options,
        queryRaw: (query) => tx.queryRaw(query),
        executeRaw: (query) => tx.executeRaw(query),
        commit: () => tx.commit().finally(close),
        rollback: () => tx.rollback().finally(close),
      };
    },
  };
}

/** The SQLite adapter factory with writes that wait their turn (see above). */
export function serializeWrites<F extends SqliteAdapterFactory>(factory: F): SqliteAdapterFactory {
  installed = true;
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => serializeAdapter(await factory.connect()),
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
}
