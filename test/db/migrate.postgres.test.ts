import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/client.ts';
import { DatabaseUnreachableError, InvalidDatabaseUrlError, MigrationFailedError } from '../../src/db/errors.ts';
import { defaultMigrationsDir, loadMigrations } from '../../src/db/migrationFiles.ts';
import { applyMigrations, migrationStatus } from '../../src/db/migrator.ts';
import { silentLogger } from '../../src/logger.ts';
import { createEmptyPostgresDatabase, MIGRATED_TABLES } from '../helpers/db.ts';

const logger = silentLogger();

async function query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function projectMigrationNames(): Promise<string[]> {
  return (await loadMigrations()).migrationDirectories.map((directory) => directory.path);
}

describe('applyMigrations on PostgreSQL', () => {
  let empty: { databaseUrl: string; drop(): Promise<void> };
  let scratchDir: string | undefined;

  beforeEach(async () => {
    empty = await createEmptyPostgresDatabase();
  });
  afterEach(async () => {
    await empty.drop();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    scratchDir = undefined;
  });

  const target = () => ({ kind: 'postgres' as const, databaseUrl: empty.databaseUrl });

  it('creates every table and records each migration in _prisma_migrations as the CLI does', async () => {
    const names = await projectMigrationNames();
    expect(names.length).toBeGreaterThan(0);

    const result = await applyMigrations({ target: target(), logger });

    expect(result.appliedMigrationNames).toEqual(names);
    const tables = await query<{ table_name: string }>(
      empty.databaseUrl,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((row) => row.table_name)).toEqual(MIGRATED_TABLES);
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
      logs: string | null;
    }>(empty.databaseUrl, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      // The CLI's checksum: SHA-256 of migration.sql, hex.
      const script = await readFile(join(defaultMigrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(script).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }
  });

  it('applies nothing the second time', async () => {
    await applyMigrations({ target: target(), logger });
    const again = await applyMigrations({ target: target(), logger });
    expect(again.appliedMigrationNames).toEqual([]);
    const [{ count }] = await query<{ count: string }>(empty.databaseUrl, 'SELECT count(*) FROM _prisma_migrations');
    expect(Number(count)).toBe((await projectMigrationNames()).length);
  });

  it('applies each migration once when several instances start at the same moment', async () => {
    const results = await Promise.all([1, 2, 3].map(() => applyMigrations({ target: target(), logger })));
    const applied = results.flatMap((result) => result.appliedMigrationNames).sort();
    expect(applied).toEqual(await projectMigrationNames());
    const [{ count }] = await query<{ count: string }>(empty.databaseUrl, 'SELECT count(*) FROM _prisma_migrations');
    expect(Number(count)).toBe(applied.length);
  });

  it('reports pending migrations, then none', async () => {
    const before = await migrationStatus({ target: target(), logger });
    expect(before.hasMigrationsTable).toBe(false);
    expect(before.pendingMigrationNames).toEqual(await projectMigrationNames());
    await applyMigrations({ target: target(), logger });
    const after = await migrationStatus({ target: target(), logger });
    expect(after).toEqual({
      hasMigrationsTable: true,
      pendingMigrationNames: [],
      unknownMigrationNames: [],
      failedMigrationNames: [],
      editedMigrationNames: [],
    });
  });

  it('runs a script whole: a ";" inside a comment, a string or a DO block does not split it', async () => {
    scratchDir = await mkdtemp(join(tmpdir(), 'wr-migrations-'));
    await cp(defaultMigrationsDir, scratchDir, { recursive: true });
    await mkdir(join(scratchDir, '29990101000000_semicolons'));
    await writeFile(
      join(scratchDir, '29990101000000_semicolons', 'migration.sql'),
      "-- a comment; with a semicolon\nCREATE TABLE semi (label TEXT NOT NULL DEFAULT 'a;b');\n" +
        "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;\n",
    );

    const result = await applyMigrations({ target: target(), logger, migrationsDir: scratchDir });

    expect(result.appliedMigrationNames).toContain('29990101000000_semicolons');
    const [row] = await query<{ label: string }>(empty.databaseUrl, 'INSERT INTO semi DEFAULT VALUES RETURNING label');
    expect(row.label).toBe('a;b');
  });

  it('rolls a failing migration back, records the failure and refuses to continue', async () => {
    scratchDir = await mkdtemp(join(tmpdir(), 'wr-migrations-'));
    await cp(defaultMigrationsDir, scratchDir, { recursive: true });
    await mkdir(join(scratchDir, '29990101000000_broken'));
    await writeFile(
      join(scratchDir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE half_done (id INT);\nCREATE TABLE broken (;\n',
    );

    const failure = await applyMigrations({ target: target(), logger, migrationsDir: scratchDir }).catch((e) => e);

    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect(failure.code).toBe('MIGRATION_FAILED');
    expect(failure.message).toMatch(/^migration 29990101000000_broken failed: .*syntax error/);
    // One script, one implicit transaction: its first statement is gone too.
    const halfDone = await query(empty.databaseUrl, "SELECT 1 FROM pg_tables WHERE tablename = 'half_done'");
    expect(halfDone).toEqual([]);
    const [record] = await query<{ finished_at: Date | null; logs: string }>(
      empty.databaseUrl,
      "SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'",
    );
    expect(record.finished_at).toBeNull();
    expect(record.logs).toMatch(/syntax error/);

    const retry = await applyMigrations({ target: target(), logger, migrationsDir: scratchDir }).catch((e) => e);
    expect(retry).toBeInstanceOf(MigrationFailedError);
    expect(retry.message).toMatch(/failed migrations/);
    const status = await migrationStatus({ target: target(), logger, migrationsDir: scratchDir });
    expect(status.failedMigrationNames).toEqual(['29990101000000_broken']);
  });
});

describe('a wrong or unreachable DATABASE_URL', () => {
  it('names the server and the cause when nothing listens', async () => {
    const error = await applyMigrations({
      target: { kind: 'postgres', databaseUrl: 'postgresql://postgres:s3cret@127.0.0.1:1/writersroom' },
      logger,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect(error.code).toBe('DB_UNREACHABLE');
    expect(error.message).toBe(
      'cannot connect to PostgreSQL at 127.0.0.1:1/writersroom: connection refused (is the server running and listening on that port?)',
    );
    expect(error.message).not.toContain('s3cret');
  });

  it('says so when the database does not exist', async () => {
    const url = new URL(process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres');
    url.pathname = '/wr_no_such_database';
    const error = await createDatabase({ databaseUrl: url.toString(), dataDir: '', poolSize: 1, logger }).catch((e) => e);
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect(error.message).toMatch(/\/wr_no_such_database: database does not exist$/);
  });

  it('rejects a URL that is not PostgreSQL', async () => {
    for (const databaseUrl of ['mysql://root@localhost/app', 'not a url', 'postgresql://']) {
      const error = await createDatabase({ databaseUrl, dataDir: '', poolSize: 1, logger }).catch((e) => e);
      expect(error, databaseUrl).toBeInstanceOf(InvalidDatabaseUrlError);
      expect(error.code).toBe('DB_URL_INVALID');
      expect(error.message).not.toContain('\n');
    }
  });
});
