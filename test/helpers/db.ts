import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { createDatabase, type Database, migrateDatabase, type PrismaClient } from '../../src/db/client.ts';
import { loadMigrations, migrationsHash } from '../../src/db/migrationFiles.ts';
import { silentLogger } from '../../src/logger.ts';

/**
 * A fresh, migrated database per call, removed again by `close()`.
 *
 * Migrating from scratch costs seconds (PGlite's initdb alone takes about 2 s), so each kind
 * keeps a template per migrations hash and copies it:
 * - PostgreSQL: database `wr_tmpl_<hash>`, built once under an advisory lock (test files run
 *   in parallel processes) and cloned with `CREATE DATABASE ... TEMPLATE`.
 * - PGlite: a data directory `<tmp>/wr-pglite-tmpl-<hash>`, built in a private directory and
 *   renamed into place (the rename is atomic; a loser of the race discards its copy), then
 *   copied per test database.
 * A change to any migration changes the hash, so a stale template is never used.
 */

export type TestDatabaseKind = 'postgres' | 'pglite';

export interface TestDatabase {
  prisma: PrismaClient;
  kind: TestDatabaseKind;
  /** The database itself, e.g. for `migrateDatabase` or its `migrationTarget`. */
  database: Database;
  /** PostgreSQL only: the URL of this test database (give it to a server child process as DATABASE_URL). */
  databaseUrl?: string;
  /** PGlite only: the data directory (give it to a server child process as DATA_DIR). */
  dataDir?: string;
  /**
   * Closes this process's connection but keeps the data, so another process can take the
   * database over (PGlite allows one process per directory). `close()` still removes it.
   */
  release(): Promise<void>;
  /** Disconnects and removes the database; safe to call more than once. */
  close(): Promise<void>;
}

/** The tables a fully migrated database has, sorted. */
export const MIGRATED_TABLES = [
  '_prisma_migrations',
  'quarantined_updates',
  'scene_change_floor',
  'scene_changes',
  'scene_labels',
  'scene_log_heads',
  'scene_snapshot_metadata',
  'scene_versions',
  'scenes',
  'script_collaborators',
  'script_labels',
  'scripts',
  'users',
  'webhook_endpoints',
  'webhook_scene_states',
];

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const POOL_SIZE = 4;
/** Databases and directories of test runs that crashed before `close()`, removed after this long. */
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;
/** Key of the advisory lock that serialises template builds across test processes. */
const TEMPLATE_LOCK_KEY = 727073691;

const logger = silentLogger();

export async function createTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  return kind === 'postgres' ? createPostgresTestDatabase() : createPGliteTestDatabase();
}

/** Kinds the suites run against: `TEST_DATABASE_KINDS=pglite` narrows them (default both). */
export function testDatabaseKinds(): TestDatabaseKind[] {
  const configured = process.env.TEST_DATABASE_KINDS;
  if (!configured) return ['postgres', 'pglite'];
  const kinds = configured.split(',').map((kind) => kind.trim());
  for (const kind of kinds) {
    if (kind !== 'postgres' && kind !== 'pglite') throw new Error(`TEST_DATABASE_KINDS: unknown kind "${kind}"`);
  }
  return kinds as TestDatabaseKind[];
}

export interface EachDatabaseOptions {
  /** The kinds the suite runs against (default both); `TEST_DATABASE_KINDS` narrows them further. */
  kinds?: readonly TestDatabaseKind[];
}

/**
 * Runs the suite `fn` once per database kind, each with its own fresh database created before
 * the suite and removed after it. `fn` receives a getter (the database exists only once the
 * suite's `beforeAll` has run, i.e. inside tests and hooks).
 *
 *   describeEachDatabase('SceneLog', (db) => {
 *     it('appends', async () => { await db().prisma.sceneVersion.count(); });
 *   });
 */
export function describeEachDatabase(name: string, fn: (database: () => TestDatabase, kind: TestDatabaseKind) => void): void;
export function describeEachDatabase(
  name: string,
  options: EachDatabaseOptions,
  fn: (database: () => TestDatabase, kind: TestDatabaseKind) => void,
): void;
export function describeEachDatabase(
  name: string,
  optionsOrFn: EachDatabaseOptions | ((database: () => TestDatabase, kind: TestDatabaseKind) => void),
  maybeFn?: (database: () => TestDatabase, kind: TestDatabaseKind) => void,
): void {
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn!;
  const wanted = options.kinds ?? ['postgres', 'pglite'];
  // TEST_DATABASE_KINDS narrows suites that run on several kinds; a suite that needs one kind
  // (PostgreSQL-only behaviour) always runs on it, so no run silently drops it.
  const selected = testDatabaseKinds().filter((kind) => wanted.includes(kind));
  const kinds = selected.length > 0 ? selected : wanted;
  for (const kind of kinds) {
    describe(`${name} [${kind}]`, () => {
      let current: TestDatabase | undefined;
      beforeAll(async () => {
        current = await createTestDatabase(kind);
      });
      afterAll(async () => {
        await current?.close();
      });
      fn(() => {
        if (current === undefined) throw new Error('the test database exists only inside tests and hooks');
        return current;
      }, kind);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

function adminUrl(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_ADMIN_URL;
}

function urlForDatabase(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function migrationsKey(): Promise<string> {
  return migrationsHash(await loadMigrations()).slice(0, 16);
}

let postgresTemplate: Promise<string> | undefined;

/** The template's name, building it first if no process has yet (once per process and hash). */
function ensurePostgresTemplate(): Promise<string> {
  postgresTemplate ??= buildPostgresTemplate().catch((error: unknown) => {
    postgresTemplate = undefined;
    throw error;
  });
  return postgresTemplate;
}

async function buildPostgresTemplate(): Promise<string> {
  const template = `wr_tmpl_${await migrationsKey()}`;
  await withAdminClient(async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      await dropStalePostgresTestDatabases(admin);
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (exists.rowCount !== 0) return;
      // Built under another name and renamed when complete, so a crash mid-build leaves no
      // half-migrated template behind under the real name.
      const building = `${template}_build`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      const database = await createDatabase({ databaseUrl: urlForDatabase(building), dataDir: '', poolSize: 1, logger });
      try {
        await migrateDatabase(database, { logger });
      } finally {
        await database.close();
      }
      await retryWhileInUse(() => admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`));
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return template;
}

/** Test databases are named `wr_test_<unix seconds>_<random>`; those of crashed runs are dropped. */
async function dropStalePostgresTestDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'wr\\_test\\_%'",
  );
  const cutoff = (Date.now() - STALE_AFTER_MS) / 1000;
  for (const { datname } of rows) {
    const createdAt = Number(datname.split('_')[2]);
    if (Number.isFinite(createdAt) && createdAt < cutoff) {
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }
}

/**
 * PostgreSQL refuses to copy or rename a database while a session is connected to it (55006).
 * The migrator's just-ended session may still be shutting down; a moment later it is gone.
 */
async function retryWhileInUse<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function testDatabaseName(): string {
  return `wr_test_${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString('hex')}`;
}

/** An empty PostgreSQL database, no migrations applied: for tests of the migrator itself. */
export async function createEmptyPostgresDatabase(): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = testDatabaseName();
  await withAdminClient((admin) => admin.query(`CREATE DATABASE "${name}"`));
  return {
    databaseUrl: urlForDatabase(name),
    drop: async () => {
      await withAdminClient((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const template = await ensurePostgresTemplate();
  const name = testDatabaseName();
  await withAdminClient((admin) => retryWhileInUse(() => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)));
  const databaseUrl = urlForDatabase(name);
  const database = await createDatabase({ databaseUrl, dataDir: '', poolSize: POOL_SIZE, logger });
  return testDatabase(database, { databaseUrl }, async () => {
    await withAdminClient((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });
}

// ---------------------------------------------------------------------------------------------
// PGlite

let pgliteTemplate: Promise<string> | undefined;

function ensurePGliteTemplate(): Promise<string> {
  pgliteTemplate ??= buildPGliteTemplate().catch((error: unknown) => {
    pgliteTemplate = undefined;
    throw error;
  });
  return pgliteTemplate;
}

async function buildPGliteTemplate(): Promise<string> {
  const template = join(tmpdir(), `wr-pglite-tmpl-${await migrationsKey()}`);
  await removeStaleTestDirectories();
  if (await exists(template)) return template;
  const building = await mkdtemp(join(tmpdir(), 'wr-pglite-build-'));
  const database = await createDatabase({ dataDir: building, poolSize: 1, logger });
  try {
    await migrateDatabase(database, { logger });
  } finally {
    await database.close();
  }
  try {
    await rename(building, template);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Another test process finished first: its template is as good as ours.
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

async function createPGliteTestDatabase(): Promise<TestDatabase> {
  const template = await ensurePGliteTemplate();
  const dataDir = await mkdtemp(join(tmpdir(), 'wr-test-'));
  await cp(template, dataDir, { recursive: true });
  const database = await createDatabase({ dataDir, poolSize: 1, logger });
  return testDatabase(database, { dataDir }, () => rm(dataDir, { recursive: true, force: true }));
}

/** Directories of crashed runs (`wr-test-*`, `wr-pglite-build-*`) older than STALE_AFTER_MS. */
async function removeStaleTestDirectories(): Promise<void> {
  const cutoff = Date.now() - STALE_AFTER_MS;
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith('wr-test-') && !entry.startsWith('wr-pglite-build-')) continue;
    const path = join(tmpdir(), entry);
    const info = await stat(path).catch(() => null);
    if (info !== null && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

// ---------------------------------------------------------------------------------------------

function testDatabase(
  database: Database,
  location: { databaseUrl?: string; dataDir?: string },
  remove: () => Promise<unknown>,
): TestDatabase {
  let released = false;
  let removed = false;
  const release = async () => {
    if (released) return;
    released = true;
    await database.close();
  };
  return {
    prisma: database.prisma,
    kind: database.kind,
    database,
    ...location,
    release,
    close: async () => {
      await release();
      if (removed) return;
      removed = true;
      await remove();
    },
  };
}
