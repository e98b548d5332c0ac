import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { describeTarget, openPGlite, parsePostgresUrl, probePostgres, ScriptSafePg, ScriptSafePGlite } from './adapter.ts';
import pg from 'pg';
import { lockDataDirectory } from './dataDirLock.ts';
import { pgExecutor, pgliteExecutor, type SqlExecutor } from './sql.ts';
import { type ApplyMigrationsResult, applyMigrations, type MigrationSources, type MigrationTarget } from './migrator.ts';
import { defaultMigrationsDir, loadMigrations } from './migrationFiles.ts';
import { historyIsCurrent } from './migrationHistory.ts';

export { Prisma, PrismaClient } from '../generated/prisma/client.ts';

/**
 * The database factory: PostgreSQL through `@prisma/adapter-pg` when a URL is given, otherwise
 * an embedded PGlite persisted under `dataDir`, so the server runs on a machine without a
 * database server. Both speak PostgreSQL; the same migrations and queries serve both.
 */

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseOptions {
  /** PostgreSQL connection string; undefined or '' selects PGlite. */
  databaseUrl?: string;
  /** Where PGlite keeps its files (in `<dataDir>/pglite`); unused with PostgreSQL. */
  dataDir: string;
  /** Connections in the PostgreSQL pool; PGlite has exactly one. */
  poolSize: number;
  logger: Logger;
}

export interface Database {
  prisma: PrismaClient;
  kind: DatabaseKind;
  /** For logs and health output: `host:port/database` or the PGlite directory; never a password. */
  description: string;
  /** What the migrator needs to migrate this database (see `migrateDatabase`). */
  migrationTarget: MigrationTarget;
  /** The adapter factory Prisma Client runs on. */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** Prepared statements straight to the driver, for the append and load hot path (`SceneLog`). */
  sql: SqlExecutor;
  /** Disconnects Prisma, ends the pool or closes PGlite (flushing it to disk), releases the directory. */
  close(): Promise<void>;
}

const PGLITE_TRANSACTION_MAX_WAIT_MS = 30_000;

/** The directory PGlite's cluster lives in, under the data directory. */
export function pgliteDirectory(dataDir: string): string {
  return join(resolve(dataDir), 'pglite');
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return createPostgresDatabase(options.databaseUrl, options);
  }
  return createPGliteDatabase(options.dataDir, options.logger);
}

async function createPostgresDatabase(databaseUrl: string, options: DatabaseOptions): Promise<Database> {
  const url = parsePostgresUrl(databaseUrl);
  // Fail at start-up with a clear message rather than at the first query.
  await probePostgres(databaseUrl);
  const adapterFactory = new ScriptSafePg({
    connectionString: databaseUrl,
    poolSize: options.poolSize,
    onPoolError: (error) => options.logger.warn({ err: error }, 'PostgreSQL connection error'),
  });
  const prisma = new PrismaClient({ adapter: adapterFactory });
  // The hot path's own pool: node-pg keeps named statements prepared per connection.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize, connectionTimeoutMillis: 10_000 });
  pool.on('error', (error) => options.logger.warn({ err: error }, 'PostgreSQL connection error'));
  const description = describeTarget(url);
  options.logger.info({ database: description, poolSize: options.poolSize }, 'using PostgreSQL');
  return {
    prisma,
    kind: 'postgres',
    description,
    migrationTarget: { kind: 'postgres', databaseUrl },
    adapterFactory,
    sql: pgExecutor(pool),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function createPGliteDatabase(dataDir: string, logger: Logger): Promise<Database> {
  const directory = pgliteDirectory(dataDir);
  await mkdir(directory, { recursive: true });
  const lock = await lockDataDirectory(`${directory}.lock`, directory);
  let pglite: PGlite;
  try {
    pglite = await openPGlite(directory);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const adapterFactory = new ScriptSafePGlite(pglite);
  const prisma = new PrismaClient({
    adapter: adapterFactory,
    // PGlite is one connection: an interactive transaction waits for the previous one to end,
    // and Prisma counts that wait against `maxWait` (default 2 s), so under load transactions
    // would fail to start although nothing is wrong.
    transactionOptions: { maxWait: PGLITE_TRANSACTION_MAX_WAIT_MS },
  });
  logger.info({ database: directory }, 'using PGlite');
  return {
    prisma,
    kind: 'pglite',
    description: directory,
    migrationTarget: { kind: 'pglite', pglite },
    adapterFactory,
    sql: pgliteExecutor(pglite),
    close: async () => {
      try {
        await prisma.$disconnect();
        // The PGlite adapter's dispose leaves the instance open; closing it checkpoints to disk.
        await pglite.close();
      } finally {
        await lock.release();
      }
    },
  };
}

/**
 * Applies pending migrations to the database (start-up and `npm run db:migrate`). A database whose
 * history already matches the directory (`historyIsCurrent`, one query) is left to itself without
 * starting the schema engine.
 */
export async function migrateDatabase(
  database: Database,
  options: MigrationSources & { logger: Logger },
): Promise<ApplyMigrationsResult> {
  const migrations = await loadMigrations(options.migrationsDir ?? defaultMigrationsDir);
  if (await historyIsCurrent(database.sql, migrations)) {
    options.logger.debug({ migrations: migrations.migrationDirectories.length }, 'every migration is applied; the schema engine is not started');
    return { appliedMigrationNames: [] };
  }
  return applyMigrations({ ...options, target: database.migrationTarget, migrations });
}
