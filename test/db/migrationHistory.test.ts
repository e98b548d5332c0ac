import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, migrateDatabase, type Database } from '../../src/db/client.ts';
import { loadMigrations } from '../../src/db/migrationFiles.ts';
import { historyIsCurrent } from '../../src/db/migrationHistory.ts';
import { silentLogger } from '../../src/logger.ts';
import { createEmptyPostgresDatabase } from '../helpers/db.ts';
import { capturingLogger } from '../helpers/logger.ts';

/** The schema engine's own first line, forwarded to our logger at debug level. */
const ENGINE_STARTED = 'Starting schema-engine-wasm';

describe.each(['postgres', 'pglite'] as const)('migrations at start without the schema engine, on %s', (kind) => {
  let database: Database;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    if (kind === 'postgres') {
      const empty = await createEmptyPostgresDatabase();
      database = await createDatabase({ databaseUrl: empty.databaseUrl, dataDir: '', poolSize: 2, logger: silentLogger() });
      cleanup = async () => {
        await database.close();
        await empty.drop();
      };
    } else {
      const dataDir = await mkdtemp(join(tmpdir(), 'wr-history-'));
      database = await createDatabase({ dataDir, poolSize: 1, logger: silentLogger() });
      cleanup = async () => {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      };
    }
  });
  afterEach(() => cleanup());

  let statements = 0;
  const sql = (text: string) => database.sql.query(`test_history_edit_${(statements += 1)}`, text, []);

  it('starts the engine on a new database, then not once every migration is recorded', async () => {
    const names = (await loadMigrations()).migrationDirectories.map((directory) => directory.path);
    const first = capturingLogger('debug');
    expect((await migrateDatabase(database, { logger: first.logger })).appliedMigrationNames).toEqual(names);
    expect(first.entries.some((entry) => entry.msg === ENGINE_STARTED)).toBe(true);

    const second = capturingLogger('debug');
    expect((await migrateDatabase(database, { logger: second.logger })).appliedMigrationNames).toEqual([]);
    expect(second.entries.some((entry) => entry.msg === ENGINE_STARTED)).toBe(false);
    expect(second.entries.map((entry) => entry.msg)).toContain('every migration is applied; the schema engine is not started');
  });

  it('leaves any doubt to the engine: no table, an edited script, a failed, missing or unknown migration', async () => {
    const migrations = await loadMigrations();
    expect(await historyIsCurrent(database.sql, migrations)).toBe(false);
    await migrateDatabase(database, { logger: silentLogger() });
    expect(await historyIsCurrent(database.sql, migrations)).toBe(true);

    const [first] = migrations.migrationDirectories;
    const edited = { ...migrations, migrationDirectories: [{ ...first!, migrationFile: { ...first!.migrationFile, content: { tag: 'ok' as const, value: '-- edited\n' } } }, ...migrations.migrationDirectories.slice(1)] };
    expect(await historyIsCurrent(database.sql, edited)).toBe(false);
    expect(await historyIsCurrent(database.sql, { ...migrations, migrationDirectories: migrations.migrationDirectories.slice(1) })).toBe(false);

    await sql(`INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES ('failed-one', 'x', '29990101000000_failed', now(), 0)`);
    expect(await historyIsCurrent(database.sql, migrations)).toBe(false);
    await sql(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE id = 'failed-one'`);
    expect(await historyIsCurrent(database.sql, migrations)).toBe(true);

    await sql(`INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ('unknown-one', 'x', '29990101000000_elsewhere', now(), now(), 1)`);
    expect(await historyIsCurrent(database.sql, migrations)).toBe(false);
    await sql(`DELETE FROM _prisma_migrations WHERE id = 'unknown-one'`);

    await sql(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${first!.path}'`);
    expect(await historyIsCurrent(database.sql, migrations)).toBe(false);
  });
});
