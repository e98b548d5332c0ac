// clear-yjs (reliability plan 1.2): deletes a scene's (or a script's scenes') Yjs log so it is
// seeded again from REST on the next load. Dry run unless --execute; every deleted row is first
// written to an export file. See src/restCopy/README.md for a scene open in an editor.
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import {
  clearRefusals,
  executeClear,
  planClear,
  resolveClearTarget,
  type ClearPlan,
  type ClearRefusal,
  type ClearResult,
  type ClearTarget,
} from '../src/restCopy/clearing.ts';
import type { ExportedRow } from '../src/log/clear.ts';
import { ClearRefusedError } from '../src/restCopy/errors.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand } from './command.ts';
import { formatTable, isoTime } from './format.ts';
import { logRowJson } from './logRowJson.ts';

/** A scene updated more recently than this is assumed to be open in an editor. */
export const ACTIVE_WINDOW_MS = 2 * 60_000;

export const EXPORT_FORMAT = 'writersroom/clear-yjs-export@1';

export interface ClearYjsOptions {
  /** A scene id or a script id. */
  id: string;
  execute: boolean;
  force: boolean;
  allowActive: boolean;
  /** Where export files go (created if missing). */
  exportDir: string;
}

export interface ClearYjsDeps {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  now: () => Date;
  /** Called with the export file's path as soon as it is on disk, before anything is deleted. */
  onExported?: (exportPath: string, rows: number) => void;
}

export type ClearYjsReport =
  | { executed: false; plan: ClearPlan; refusals: ClearRefusal[] }
  | { executed: true; plan: ClearPlan; result: ClearResult };

/**
 * One pass. A dry run returns the plan and what `--execute` would refuse. `--execute` throws
 * `ClearRefusedError` when a refusal applies (nothing is written or deleted), and otherwise
 * exports, deletes and resets in one transaction.
 */
export async function clearYjs(deps: ClearYjsDeps, options: ClearYjsOptions): Promise<ClearYjsReport> {
  const { prisma, sceneLog, now } = deps;
  const target = await resolveClearTarget(prisma, options.id);
  const guards = { force: options.force, allowActive: options.allowActive, activeWindowMs: ACTIVE_WINDOW_MS, now: now() };
  const plan = await planClear(prisma, sceneLog, target);
  const refusals = clearRefusals(plan, guards);
  if (!options.execute) return { executed: false, plan, refusals };
  if (refusals.length > 0) throw refusedError(refusals);

  const result = await executeClear(prisma, target, {
    sceneLog,
    // Computed again under the locks: the REST copy or the log may have changed since planning.
    guards: { ...guards, now: now() },
    onRefused: (_plan, underLock) => {
      throw refusedError(underLock);
    },
    writeExport: async (lockedPlan, rows) => {
      const exportPath = await writeExportFile(options.exportDir, target, lockedPlan, rows, now());
      deps.onExported?.(exportPath, rows.length);
      return exportPath;
    },
  });
  return { executed: true, plan, result };
}

function refusedError(refusals: readonly ClearRefusal[]): ClearRefusedError {
  const reasons = [...new Set(refusals.map((r) => r.reason))];
  const overrides = reasons.map((reason) => (reason === 'recently-active' ? '--allow-active' : '--force'));
  const scenes = [...new Set(refusals.map((r) => r.sceneId))];
  return new ClearRefusedError(
    `refused for ${scenes.length} scene(s): ${refusals[0]!.message}${refusals.length > 1 ? ` (and ${refusals.length - 1} more)` : ''}; pass ${[...new Set(overrides)].join(' and ')} to clear anyway`,
    scenes,
  );
}

/**
 * JSON Lines: a header, then one line per row with its update in base64. Written with `wx` (an
 * existing file is never overwritten) and fsynced before the caller deletes anything.
 */
export async function writeExportFile(
  exportDir: string,
  target: ClearTarget,
  plan: ClearPlan,
  rows: readonly ExportedRow[],
  at: Date,
): Promise<string> {
  await mkdir(exportDir, { recursive: true });
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const file = path.resolve(exportDir, `clear-yjs-${target.kind}-${target.id}-${stamp}-${randomBytes(3).toString('hex')}.jsonl`);
  // The rows hold scene content: readable by the operator only.
  const handle = await open(file, 'wx', 0o600);
  try {
    const header = {
      format: EXPORT_FORMAT,
      exportedAt: at.toISOString(),
      target,
      rows: rows.length,
      scenes: plan.scenes.map((s) => ({ sceneId: s.sceneId, scriptId: s.scriptId, position: s.position, rows: s.storedRows, restBlocks: s.restBlocks })),
      restore: 'each row line is a scene_versions row; INSERT it back with the same version_id and seq (the log head is never lowered)',
    };
    const lines = [JSON.stringify(header)];
    for (const row of rows) {
      lines.push(
        JSON.stringify({ sceneId: row.sceneId, ...logRowJson(row) }),
      );
    }
    await handle.writeFile(`${lines.join('\n')}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return file;
}

// ---- command line ------------------------------------------------------------------------------

export const clearYjsCommand: JobCommand<ClearYjsOptions> = {
  name: 'clear-yjs',
  summary: 'delete the Yjs log of a scene or script (exported first) so it seeds again from REST',
  usage: [
    'usage: npm run job -- clear-yjs <scene-or-script-id> [--execute] [--force] [--allow-active] [--export-dir <dir>]',
    '',
    '  --execute           really delete (default: dry run, nothing changes)',
    '  --force             also clear scenes whose REST copy is empty or invalid (they will load blank)',
    '  --allow-active      also clear scenes updated in the last 2 minutes (probably open in an editor)',
    '  --export-dir <dir>  where the export file of the deleted rows goes (default ./exports)',
    '',
    'Before deleting, every row is written to a JSON Lines export file (base64 updates, ids, seq).',
    'Deletes the log rows and resets yjs_seeded_at in one transaction; the next load seeds from REST.',
    'Close every editor that has the scene open first: an editor that keeps its old document sends',
    'the old content back when it reconnects, next to the reseeded content.',
  ].join('\n'),
  parse(argv) {
    const { values, positionals } = parseJobArgs(
      argv,
      {
        execute: { type: 'boolean' },
        force: { type: 'boolean' },
        'allow-active': { type: 'boolean' },
        'export-dir': { type: 'string' },
      },
      { min: 1, max: 1, names: '<scene-or-script-id>' },
    );
    return {
      id: parseUuid(positionals[0]!, 'the scene or script id'),
      execute: Boolean(values.execute),
      force: Boolean(values.force),
      allowActive: Boolean(values['allow-active']),
      exportDir: (values['export-dir'] as string | undefined) ?? 'exports',
    };
  },
  async run(args, { database, output, now }) {
    let report: ClearYjsReport;
    try {
      report = await clearYjs(
        {
          prisma: database.prisma,
          sceneLog: new SceneLog(database.sql),
          now,
          onExported: (exportPath, rows) => output.progress(`exported ${rows} row(s) to ${exportPath}; deleting...`),
        },
        args,
      );
    } catch (error) {
      if (!(error instanceof ClearRefusedError)) throw error;
      output.progress(`clear-yjs: ${error.message}`);
      return EXIT.FAILED;
    }
    const { plan } = report;
    output.result(`${plan.target.kind} ${plan.target.id}: ${plan.scenes.length} scene(s), ${plan.totalRows} stored update(s)`);
    const table = formatTable(
      ['pos', 'scene', 'updates', 'last update', 'REST blocks', 'seeded'],
      plan.scenes.map((s) => [s.position, s.sceneId, s.storedRows, isoTime(s.lastUpdateAt), s.restBlocks ?? 'invalid', s.seeded ? 'yes' : 'no']),
    );
    for (const line of table) output.result(line);
    if (!report.executed) {
      for (const refusal of report.refusals) output.result(`  would refuse ${refusal.sceneId}: ${refusal.message}`);
      output.result(`dry run: nothing deleted; would delete ${plan.totalRows} row(s). Run again with --execute.`);
      return EXIT.OK;
    }
    output.result(`export: ${report.result.exportPath}`);
    output.result(`deleted ${report.result.deletedRows} row(s); ${report.result.scenes.length} scene(s) will seed from REST when next opened.`);
    return EXIT.OK;
  },
};
