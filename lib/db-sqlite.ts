import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

type SqlDriverAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type Transaction = Awaited<ReturnType<SqlDriverAdapter["startTransaction"]>>;

/** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * The SQLite driver adapter of every process (server, pull-log writer thread,
 * CLI: all create their client in lib/db.ts). Several connections write to one
 * file: the serving thread, the pull-log writer thread, the CLI. Two settings
 * make them wait for each other instead of failing with SQLITE_BUSY (Prisma:
 * "Operation has timed out"):
 *
 * - WAL: readers never block the writer nor the writer the readers. In the
 *   default rollback journal, a writer must wait for every reader to finish,
 *   and a reader that then wants to write is refused at once (SQLite does not
 *   wait where waiting could deadlock).
 * - Transactions begin IMMEDIATE: they take the write lock up front, waiting
 *   (busy timeout) while another connection holds it. A DEFERRED transaction
 *   that read first and writes second would get SQLITE_BUSY (or, in WAL,
 *   SQLITE_BUSY_SNAPSHOT when another connection committed meanwhile)
 *   without waiting. Every transaction takes the lock, since the adapter
 *   cannot know whether one will write; reads outside transactions never do.
 *
 * The PRAGMA is connection configuration issued by the adapter setup, not a
 * query: the rule "no provider-specific SQL outside migrations" is about what
 * the application asks, which stays Prisma's. journal_mode=WAL is also
 * persistent in the file, so `prisma migrate` and any other client see it.
 */
export class SqliteAdapterFactory {
  readonly provider = "sqlite";
  readonly adapterName: string;
  readonly #inner: PrismaBetterSQLite3;

  constructor(url: string) {
    // `timeout` is better-sqlite3's busy timeout (sqlite3_busy_timeout).
    this.#inner = new PrismaBetterSQLite3({ url, timeout: BUSY_TIMEOUT_MS });
    this.adapterName = this.#inner.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await this.#inner.connect();
    await adapter.executeScript("PRAGMA journal_mode = WAL;");
    return withImmediateTransactions(adapter);
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.#inner.connectToShadowDb();
  }
}

/**
 * The adapter with transactions that BEGIN IMMEDIATE. The stock adapter sends
 * a plain (deferred) BEGIN and has no option for it; this implements the same
 * contract over its connection: one transaction at a time (the connection is
 * shared: a second BEGIN on it would fail), the engine sends COMMIT/ROLLBACK
 * itself (usePhantomQuery: false), commit() and rollback() release the turn.
 */
export function withImmediateTransactions(adapter: SqlDriverAdapter): SqlDriverAdapter {
  let turn: Promise<void> = Promise.resolve();
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => adapter.queryRaw(query),
    executeRaw: (query) => adapter.executeRaw(query),
    executeScript: (script) => adapter.executeScript(script),
    dispose: () => adapter.dispose(),
    ...(adapter.getConnectionInfo ? { getConnectionInfo: () => adapter.getConnectionInfo!() } : {}),
    async startTransaction(isolationLevel): Promise<Transaction> {
      // SQLite knows only SERIALIZABLE: the stock adapter refuses any other level with the error the engine expects.
      if (isolationLevel && isolationLevel !== "SERIALIZABLE") return adapter.startTransaction(isolationLevel);
      let release!: () => void;
      const previous = turn;
      turn = new Promise<void>((resolve) => (release = resolve));
      await previous;
      try {
        await adapter.executeRaw({ sql: "BEGIN IMMEDIATE", args: [], argTypes: [] });
      } catch (e) {
        release();
        throw e;
      }
      let open = true;
      const end = () => {
        if (open) release();
        open = false;
        return Promise.resolve();
      };
      return {
        provider: adapter.provider,
        adapterName: adapter.adapterName,
        options: { usePhantomQuery: false },
        queryRaw: (query) => adapter.queryRaw(query),
        executeRaw: (query) => adapter.executeRaw(query),
        commit: end,
        rollback: end,
      };
    },
  };
}
