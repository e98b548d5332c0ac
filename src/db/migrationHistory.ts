import { createHash } from 'node:crypto';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import type { SqlExecutor } from './sql.ts';

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished: boolean;
  rolled_back: boolean;
}

/**
 * Whether `_prisma_migrations` records every migration of the directory as applied, each with the
 * checksum of its script as it is on disk (the CLI's: SHA-256 of `migration.sql`, hex), and nothing
 * more: no failed or unfinished migration, none the directory does not have. Then `migrate deploy`
 * would apply nothing, and a start need not load the schema engine at all (its WebAssembly and its
 * diagnosis of the history took 150-250 ms of every start, which the editors reconnecting after a
 * restart wait for). Anything else, or any doubt (no table yet, a script that could not be read, an
 * error), answers false and leaves the decision to the engine.
 */
export async function historyIsCurrent(sql: SqlExecutor, migrations: MigrationList): Promise<boolean> {
  let rows: HistoryRow[];
  try {
    rows = await sql.query<HistoryRow>(
      'migration_history',
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
       FROM _prisma_migrations`,
      [],
    );
  } catch {
    return false;
  }
  const applied = new Map<string, string>();
  for (const row of rows) {
    // A migration rolled back and applied again has a row for each; only the live one counts.
    if (row.rolled_back) continue;
    if (!row.finished || applied.has(row.migration_name)) return false;
    applied.set(row.migration_name, row.checksum);
  }
  if (applied.size !== migrations.migrationDirectories.length) return false;
  return migrations.migrationDirectories.every(({ path, migrationFile }) => {
    const { content } = migrationFile;
    return content.tag === 'ok' && applied.get(path) === createHash('sha256').update(content.value, 'utf8').digest('hex');
  });
}
