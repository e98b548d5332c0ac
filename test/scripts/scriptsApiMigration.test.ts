// The scripts_api migration on a database that already holds scenes written by SQL, with positions
// that repeat or leave gaps: it numbers them 0..n-1 before it builds the unique index of live positions.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../../src/db/migrationFiles.ts';
import { applyMigrations } from '../../src/db/migrator.ts';
import { silentLogger } from '../../src/logger.ts';
import { createEmptyPostgresDatabase } from '../helpers/db.ts';

const MIGRATION = '20261203143750_scripts_api';
const logger = silentLogger();

describe(`migration ${MIGRATION} on PostgreSQL`, () => {
  let empty: { databaseUrl: string; drop(): Promise<void> };
  let scratchDir: string;
  let client: pg.Client;

  beforeEach(async () => {
    empty = await createEmptyPostgresDatabase();
    scratchDir = await mkdtemp(join(tmpdir(), 'wr-migrations-'));
    client = new pg.Client({ connectionString: empty.databaseUrl });
    await client.connect();
  });
  afterEach(async () => {
    await client.end();
    await empty.drop();
    await rm(scratchDir, { recursive: true, force: true });
  });

  it('numbers existing scenes 0..n-1 per script in their order, then refuses two live scenes on one position', async () => {
    // The schema as it was just before the migration (it and every later one left out).
    await cp(defaultMigrationsDir, scratchDir, { recursive: true });
    for (const name of await readdir(scratchDir)) if (name >= MIGRATION && !name.endsWith('.toml')) await rm(join(scratchDir, name), { recursive: true });
    await applyMigrations({ target: { kind: 'postgres', databaseUrl: empty.databaseUrl }, logger, migrationsDir: scratchDir });

    const [user] = (await client.query<{ user_id: string }>("INSERT INTO users (email) VALUES ('a@example.com') RETURNING user_id")).rows;
    const script = async () => (await client.query<{ script_id: string }>('INSERT INTO scripts (owner_id, title) VALUES ($1, $2) RETURNING script_id', [user!.user_id, 'S'])).rows[0]!.script_id;
    const scene = async (scriptId: string, sceneId: string, position: number) => {
      await client.query('INSERT INTO scenes (scene_id, script_id, position) VALUES ($1, $2, $3)', [sceneId, scriptId, position]);
      return sceneId;
    };
    const first = await script();
    const second = await script();
    // Two scenes at 0 (ordered by id), a gap, one far out; the other script is dense already.
    const a = await scene(first, '00000000-0000-4000-8000-00000000000b', 0);
    const b = await scene(first, '00000000-0000-4000-8000-00000000000a', 0);
    const c = await scene(first, '00000000-0000-4000-8000-00000000000c', 2);
    const d = await scene(first, '00000000-0000-4000-8000-00000000000d', 9);
    const e = await scene(second, '00000000-0000-4000-8000-00000000000e', 0);

    const result = await applyMigrations({ target: { kind: 'postgres', databaseUrl: empty.databaseUrl }, logger });
    expect(result.appliedMigrationNames[0]).toBe(MIGRATION);

    const order = await client.query<{ scene_id: string; script_id: string; position: number }>('SELECT scene_id, script_id, position FROM scenes ORDER BY script_id = $1 DESC, position', [first]);
    expect(order.rows.map((row) => [row.scene_id, row.position])).toEqual([
      [b, 0],
      [a, 1],
      [c, 2],
      [d, 3],
      [e, 0],
    ]);
    await expect(client.query('INSERT INTO scenes (script_id, position) VALUES ($1, 3)', [first])).rejects.toThrow(/uq_scenes_live_position/);
    await client.query('UPDATE scenes SET deleted_at = now() WHERE scene_id = $1', [d]);
    await client.query('INSERT INTO scenes (script_id, position) VALUES ($1, 3)', [first]);
    await expect(client.query(`UPDATE scripts SET title_page = '["not", "an", "object"]'::jsonb WHERE script_id = $1`, [first])).rejects.toThrow(/title_page_is_object/);
  });
});
