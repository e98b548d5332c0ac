import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, type Database, migrateDatabase, pgliteDirectory } from '../../src/db/client.ts';
import { DataDirectoryInUseError, MigrationFailedError } from '../../src/db/errors.ts';
import { defaultMigrationsDir, loadMigrations } from '../../src/db/migrationFiles.ts';
import { migrationStatus } from '../../src/db/migrator.ts';
import { silentLogger } from '../../src/logger.ts';
import { MIGRATED_TABLES } from '../helpers/db.ts';

const logger = silentLogger();

describe('migrations on PGlite', () => {
  let dataDir: string;
  const open: Database[] = [];

  async function openDatabase(): Promise<Database> {
    const database = await createDatabase({ dataDir, poolSize: 1, logger });
    open.push(database);
    return database;
  }

  async function closeDatabase(database: Database): Promise<void> {
    open.splice(open.indexOf(database), 1);
    await database.close();
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wr-test-'));
  });
  afterEach(async () => {
    for (const database of open.splice(0)) await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates every table and records the migrations, then applies nothing the second time', async () => {
    const names = (await loadMigrations()).migrationDirectories.map((directory) => directory.path);
    const database = await openDatabase();
    expect(database.kind).toBe('pglite');
    expect(database.description).toBe(pgliteDirectory(dataDir));

    expect((await migrateDatabase(database, { logger })).appliedMigrationNames).toEqual(names);
    expect((await migrateDatabase(database, { logger })).appliedMigrationNames).toEqual([]);

    const tables = await database.prisma.$queryRaw<{ table_name: string }[]>`
      SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
    expect(tables.map((row) => row.table_name)).toEqual(MIGRATED_TABLES);
    const records = await database.prisma.$queryRaw<{ migration_name: string; finished: boolean }[]>`
      SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name`;
    expect(records).toEqual(names.map((name) => ({ migration_name: name, finished: true })));
  });

  it('keeps its data across close and reopen, and is opened by one owner at a time', async () => {
    const first = await openDatabase();
    await migrateDatabase(first, { logger });
    const user = await first.prisma.user.create({ data: { email: 'persisted@example.test' } });
    await closeDatabase(first);

    const second = await openDatabase();
    expect((await migrateDatabase(second, { logger })).appliedMigrationNames).toEqual([]);
    expect(await second.prisma.user.findUnique({ where: { userId: user.userId } })).toMatchObject({
      email: 'persisted@example.test',
    });
    const third = await createDatabase({ dataDir, poolSize: 1, logger }).catch((e) => e);
    expect(third).toBeInstanceOf(DataDirectoryInUseError);
  });

  it('reports a failing migration instead of recording it as applied', async () => {
    const migrationsDir = await mkdtemp(join(tmpdir(), 'wr-migrations-'));
    try {
      await cp(defaultMigrationsDir, migrationsDir, { recursive: true });
      await mkdir(join(migrationsDir, '29990101000000_broken'));
      await writeFile(
        join(migrationsDir, '29990101000000_broken', 'migration.sql'),
        'CREATE TABLE half_done (id INT);\nCREATE TABLE broken (;\n',
      );
      const database = await openDatabase();

      const error = await migrateDatabase(database, { logger, migrationsDir }).catch((e) => e);

      expect(error).toBeInstanceOf(MigrationFailedError);
      expect(error.message).toMatch(/^migration 29990101000000_broken failed: .*syntax error/);
      const halfDone = await database.prisma.$queryRaw<unknown[]>`
        SELECT 1 FROM pg_tables WHERE tablename = 'half_done'`;
      expect(halfDone).toEqual([]);
      const status = await migrationStatus({ target: database.migrationTarget, logger, migrationsDir });
      expect(status.failedMigrationNames).toEqual(['29990101000000_broken']);
    } finally {
      await rm(migrationsDir, { recursive: true, force: true });
    }
  });
});
