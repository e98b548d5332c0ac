import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidMigrationNameError } from '../../src/db/errors.ts';
import { defaultSchemaPath, loadMigrations, migrationLockContent } from '../../src/db/migrationFiles.ts';
import { createMigration, diffMigrationsToSchema } from '../../src/db/migrator.ts';
import { silentLogger } from '../../src/logger.ts';

const logger = silentLogger();

/** The project's schema with one more nullable column on `scenes`. */
async function schemaWithExtraColumn(): Promise<string> {
  const schema = await readFile(defaultSchemaPath, 'utf8');
  const anchor = '  yjsSeededAt    DateTime?';
  expect(schema).toContain(anchor);
  return schema.replace(anchor, `  driftProbe     String?        @map("drift_probe")\n${anchor}`);
}

describe('drift between schema.prisma and prisma/migrations', () => {
  it('finds none in the project', async () => {
    expect(await diffMigrationsToSchema({ logger })).toBe('');
  });

  it('can fail: a changed datamodel yields the SQL of the missing migration', async () => {
    const sql = await diffMigrationsToSchema({ logger, datamodel: await schemaWithExtraColumn() });
    expect(sql).toContain('ALTER TABLE "scenes" ADD COLUMN     "drift_probe" TEXT;');
  });

  it('ignores the hand-written CHECK constraints of the init migration (Prisma does not model them)', async () => {
    const [init] = (await loadMigrations()).migrationDirectories;
    const script = init.migrationFile.content.tag === 'ok' ? init.migrationFile.content.value : '';
    expect(script).toContain('CONSTRAINT "yjs_update_not_empty" CHECK (length("yjs_update") > 0)');
    expect(script).toContain('CONSTRAINT "compacted_count_positive" CHECK ("compacted_count" > 0)');
    expect(script).toContain('CHECK ("last_seq" >= 0)');
    expect(await diffMigrationsToSchema({ logger })).toBe('');
  });
});

describe('createMigration', () => {
  let scratch: string;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'wr-migrations-'));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('writes the first migration and the lock file into an empty directory, as the CLI does', async () => {
    const now = new Date(Date.UTC(2031, 0, 2, 3, 4, 5));

    const result = await createMigration({ name: 'Init Schema', logger, migrationsDir: scratch, now });

    expect(result).toMatchObject({ created: true, directoryName: '20310102030405_init_schema' });
    expect(await readdir(scratch)).toEqual(['20310102030405_init_schema', 'migration_lock.toml']);
    expect(await readFile(join(scratch, 'migration_lock.toml'), 'utf8')).toBe(migrationLockContent('postgresql'));
    const script = await readFile(join(scratch, '20310102030405_init_schema', 'migration.sql'), 'utf8');
    expect(script).toContain('CREATE TABLE "scene_versions"');
    expect(await diffMigrationsToSchema({ logger, migrationsDir: scratch })).toBe('');
  });

  it('writes only the difference, then nothing once the migrations catch up', async () => {
    const migrationsDir = join(scratch, 'migrations');
    await createMigration({ name: 'init', logger, migrationsDir, now: new Date(Date.UTC(2031, 0, 1)) });
    const schemaPath = join(scratch, 'schema.prisma');
    await writeFile(schemaPath, await schemaWithExtraColumn());

    const added = await createMigration({ name: 'add probe', logger, migrationsDir, schemaPath, now: new Date(Date.UTC(2031, 0, 2)) });

    expect(added).toMatchObject({ created: true, directoryName: '20310102000000_add_probe' });
    expect(added.created && added.script.trim()).toBe('-- AlterTable\nALTER TABLE "scenes" ADD COLUMN     "drift_probe" TEXT;');
    expect(await createMigration({ name: 'again', logger, migrationsDir, schemaPath })).toEqual({ created: false });
    expect(await diffMigrationsToSchema({ logger, migrationsDir, schemaPath })).toBe('');
  });

  it('refuses a name with nothing usable in it', async () => {
    const error = await createMigration({ name: '!!!', logger, migrationsDir: scratch }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidMigrationNameError);
    expect(await readdir(scratch)).toEqual([]);
  });
});
