import type { SqlExecutor } from './sql.ts';

/**
 * Cross-instance mutual exclusion for background work, with PostgreSQL advisory locks.
 *
 * Every key is the pair (hashtext(namespace), hashtext(key)) in the two-int4 key space. Two
 * different scenes whose hashes collide only serialise (or skip each other for one pass), which is
 * harmless; a lock never has to be released by hand because the transaction-scoped form ends with
 * its transaction, also when the process dies.
 */

/** Namespaces of the background jobs; a scene locked for compaction can still be snapshotted. */
export const LOCK_NAMESPACES = {
  compaction: 'writersroom.compaction',
  retention: 'writersroom.retention',
  snapshot: 'writersroom.snapshot',
  divergence: 'writersroom.divergence',
} as const;

/**
 * Takes the lock for the rest of the transaction `tx` if nobody holds it; false when another
 * session does (another instance is doing the same work right now).
 */
export async function tryAdvisoryXactLock(tx: SqlExecutor, namespace: string, key: string): Promise<boolean> {
  const [row] = await tx.query<{ locked: boolean }>(
    'advisory_try_xact_lock',
    'SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked',
    [namespace, key],
  );
  return row?.locked === true;
}

/** Waits for the lock and holds it for the rest of the transaction `tx`. */
export async function advisoryXactLock(tx: SqlExecutor, namespace: string, key: string): Promise<void> {
  // pg_advisory_xact_lock returns void, which not every driver decodes; selecting a constant from it
  // still waits for the lock.
  await tx.query(
    'advisory_xact_lock',
    'SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))) AS l',
    [namespace, key],
  );
}

export type LockedRun<T> = { acquired: true; value: T } | { acquired: false };

/**
 * A guard for work that does not run on one `SqlExecutor` transaction (the snapshot service and
 * the divergence detector query through Prisma): `fn` runs while the lock is held elsewhere.
 */
export interface JobLocks {
  /** Runs `fn` while holding the lock; `{ acquired: false }` without running it when someone else holds it. */
  withLock<T>(namespace: string, key: string, fn: () => Promise<T>): Promise<LockedRun<T>>;
}

/**
 * PostgreSQL: one pooled connection sits in a transaction holding the advisory lock while `fn`
 * runs on other connections; committing the transaction releases it. Costs one connection per
 * running job for the duration of one scene's work.
 */
export function advisoryJobLocks(sql: SqlExecutor): JobLocks {
  return {
    withLock: <T>(namespace: string, key: string, fn: () => Promise<T>) =>
      sql.transaction<LockedRun<T>>(async (tx) => {
        if (!(await tryAdvisoryXactLock(tx, namespace, key))) return { acquired: false };
        return { acquired: true, value: await fn() };
      }),
  };
}

/**
 * PGlite: a data directory belongs to one process (see `dataDirLock`), so there is no other
 * instance to exclude, and holding a transaction open would block PGlite's only connection (and
 * with it `fn`'s own queries). What is left to exclude is overlap inside this process.
 */
export function singleProcessJobLocks(): JobLocks {
  const held = new Set<string>();
  return {
    async withLock<T>(namespace: string, key: string, fn: () => Promise<T>): Promise<LockedRun<T>> {
      const id = `${namespace}\u0000${key}`;
      if (held.has(id)) return { acquired: false };
      held.add(id);
      try {
        return { acquired: true, value: await fn() };
      } finally {
        held.delete(id);
      }
    },
  };
}

export type DatabaseFlavour = 'postgres' | 'pglite';

/** PGlite names itself in `version()`; callers that know the kind should pass it instead. */
export async function detectDatabaseFlavour(sql: SqlExecutor): Promise<DatabaseFlavour> {
  const [row] = await sql.query<{ version: string }>('database_version', 'SELECT version() AS version', []);
  return row?.version.includes('PGlite') ? 'pglite' : 'postgres';
}

export function jobLocksFor(sql: SqlExecutor, flavour: DatabaseFlavour): JobLocks {
  return flavour === 'pglite' ? singleProcessJobLocks() : advisoryJobLocks(sql);
}
