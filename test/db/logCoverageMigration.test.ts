// The log_coverage migration: from marked rows (`compacted_by`) to compacted rows that cover every
// row up to their seq (src/log/coverage.ts). A log written under the marks must load the same
// after it, and a row compaction had left live below a compacted row must not vanish.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../../src/db/migrationFiles.ts';
import { applyMigrations } from '../../src/db/migrator.ts';
import { silentLogger } from '../../src/logger.ts';
import { createEmptyPostgresDatabase } from '../helpers/db.ts';

const MIGRATION = '20261203144522_log_coverage';
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

  it('keeps what loaded before, and quarantines a row compaction had left live under a compacted row', async () => {
    // The schema as it was just before the migration.
    await cp(defaultMigrationsDir, scratchDir, { recursive: true });
    await rm(join(scratchDir, MIGRATION), { recursive: true });
    await applyMigrations({ target: { kind: 'postgres', databaseUrl: empty.databaseUrl }, logger, migrationsDir: scratchDir });

    const [user] = (await client.query<{ user_id: string }>("INSERT INTO users (email) VALUES ('a@example.com') RETURNING user_id")).rows;
    const [script] = (await client.query<{ script_id: string }>('INSERT INTO scripts (owner_id, title) VALUES ($1, $2) RETURNING script_id', [user!.user_id, 'S'])).rows;
    const [scene] = (await client.query<{ scene_id: string }>('INSERT INTO scenes (script_id, position) VALUES ($1, 0) RETURNING scene_id', [script!.script_id])).rows;
    const sceneId = scene!.scene_id;
    await client.query(`INSERT INTO scene_log_heads (scene_id, last_seq, committed_clocks) VALUES ($1, 4, '{"1": 4}'::jsonb)`, [sceneId]);
    const insert = async (seq: number, compacted: boolean, bytes: string) =>
      (await client.query<{ version_id: string }>(
        'INSERT INTO scene_versions (scene_id, seq, yjs_update, is_compacted) VALUES ($1, $2, $3::bytea, $4) RETURNING version_id',
        [sceneId, seq, bytes, compacted],
      )).rows[0]!.version_id;
    // Rows 1-3, a compacted row at seq 3 that merged 1 and 3 (2 did not decode and was left live), and row 4.
    const rows = { one: await insert(1, false, '\\x01'), two: await insert(2, false, '\\xff'), three: await insert(3, false, '\\x03'), four: await insert(4, false, '\\x04') };
    const compacted = await insert(3, true, '\\x13');
    await client.query('UPDATE scene_versions SET compacted_by = $1 WHERE version_id = ANY($2::uuid[])', [compacted, [rows.one, rows.three]]);

    const result = await applyMigrations({ target: { kind: 'postgres', databaseUrl: empty.databaseUrl }, logger });
    expect(result.appliedMigrationNames).toEqual([MIGRATION]);

    const columns = await client.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'scene_versions' AND column_name = 'compacted_by'");
    expect(columns.rowCount).toBe(0);
    const left = await client.query<{ version_id: string }>('SELECT version_id FROM scene_versions WHERE scene_id = $1 ORDER BY seq, is_compacted', [sceneId]);
    expect(left.rows.map((row) => row.version_id)).toEqual([rows.one, rows.three, compacted, rows.four]);
    const quarantined = await client.query<{ version_id: string; reason: string }>('SELECT version_id, reason FROM quarantined_updates WHERE scene_id = $1', [sceneId]);
    expect(quarantined.rows.map((row) => row.version_id)).toEqual([rows.two]);
    expect(quarantined.rows[0]!.reason).toMatch(/^left live by compaction/);
    const [head] = (await client.query<{ committed_clocks: unknown }>('SELECT committed_clocks FROM scene_log_heads WHERE scene_id = $1', [sceneId])).rows;
    expect(head!.committed_clocks).toBeNull();
  });
});
