import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type pg from 'pg';

/**
 * The narrow SQL interface the scene log (`src/log/`) runs every statement through.
 *
 * Prisma Client costs about a millisecond per raw statement on top of the database, and an
 * unnamed statement is planned again on every call; on the append path that is most of the time
 * an acknowledgement waits. This interface goes straight to the driver with named (prepared)
 * statements. It runs on the same database as Prisma Client (its own pool on PostgreSQL, the same
 * PGlite instance), created once by the database factory. The log uses it for all its tables, so
 * it has one data-access style; everything else uses Prisma.
 */
export interface SqlExecutor {
  /**
   * Runs one statement. `name` identifies the statement text so PostgreSQL can keep it prepared
   * per connection; the same name must always come with the same text.
   */
  query<Row>(name: string, text: string, values: readonly unknown[]): Promise<Row[]>;
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/**
 * Lets the transaction `tx` commit without waiting for the WAL flush (`synchronous_commit` off for
 * it alone): for writes that a crash of the database may lose because they can be done again
 * (a compaction, the webhook deliverer's bookkeeping). Still all or nothing, and a crash loses
 * only the newest such commits: the WAL is replayed in order.
 */
export async function commitWithoutFlushWait(tx: SqlExecutor): Promise<void> {
  await tx.query('commit_without_flush_wait', 'SET LOCAL synchronous_commit TO off', []);
}

type PgQueryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

function pgQuery(client: PgQueryable) {
  return async <Row>(name: string, text: string, values: readonly unknown[]): Promise<Row[]> => {
    const result = await client.query({ name, text, values: values as unknown[] });
    return result.rows as Row[];
  };
}

/** PostgreSQL through node-pg's pool, in the text protocol (node-pg's binary mode corrupts bytea). */
export function pgExecutor(pool: pg.Pool): SqlExecutor {
  return {
    query: pgQuery(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: pgQuery(client),
          transaction: () => Promise.reject(new Error('nested transactions are not supported')),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

function pgliteQuery(client: PGlite | PGliteTransaction) {
  return async <Row>(_name: string, text: string, values: readonly unknown[]): Promise<Row[]> => {
    const result = await client.query<Row>(text, values as unknown[]);
    return result.rows;
  };
}

/**
 * PGlite has one session; its `transaction` holds the instance until it ends, so a statement from
 * Prisma or from here never lands inside someone else's transaction.
 */
export function pgliteExecutor(pglite: PGlite): SqlExecutor {
  return {
    query: pgliteQuery(pglite),
    transaction: (fn) =>
      pglite.transaction((tx) =>
        fn({
          query: pgliteQuery(tx),
          transaction: () => Promise.reject(new Error('nested transactions are not supported')),
        }),
      ),
  };
}

/**
 * The same interface over a Prisma client or an interactive transaction's client, for code that
 * must run a log statement inside a transaction it opened with Prisma (seeding and clear-yjs take
 * row locks and write `scenes` in the same transaction; a snapshot holds the row it names). Only
 * `SceneLog.withTransaction` builds it. Statements are not kept prepared here.
 */
export function prismaExecutor(client: {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}): SqlExecutor {
  return {
    query: <Row>(_name: string, text: string, values: readonly unknown[]) => client.$queryRawUnsafe<Row[]>(text, ...values),
    transaction: () => Promise.reject(new Error('open transactions through Prisma ($transaction) when using prismaExecutor')),
  };
}
