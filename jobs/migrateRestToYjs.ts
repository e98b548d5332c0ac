// migrate-rest-to-yjs (architecture document 11.2, 11.3): gives every scene that has REST content
// and no Yjs log its initial Yjs update, through the same seed-under-lock path as the load-time
// extension, so a scene opened by an editor during the migration is seeded once.
import * as Y from 'yjs';
import { compareSceneContent, firstDifferentBlock, isLagging, readYjsSide } from '../src/restCopy/divergence.ts';
import { UnknownTargetError } from '../src/restCopy/errors.ts';
import { SceneSeeder, type SeedResult } from '../src/restCopy/seeding.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { replayUpdates } from '../src/log/replay.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import type { Logger } from '../src/logger.ts';
import { getScreenplayConverter, type ScreenplayConverter } from '../src/screenplay/convert.ts';
import { EXIT, parseJobArgs, parseUuid, UsageError, type JobCommand } from './command.ts';
import { checkReadiness, DEFAULT_READINESS_SAMPLE, formatReadiness } from './readiness.ts';

export type MigrationMode = 'migrate' | 'dry-run' | 'verify-only';
export type MigrationScope = { kind: 'all' } | { kind: 'script'; scriptId: string };

export interface MigrateOptions {
  mode: MigrationMode;
  scope: MigrationScope;
}

export interface MigrateDeps {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  logger: Logger;
  /** Defaults to a seeder on `prisma` and `sceneLog`; the server's is built the same way. */
  seeder?: SceneSeeder;
  converter?: ScreenplayConverter;
  /** Called after each scene, for progress output. */
  onScene?: (result: SceneMigrationResult, done: number, total: number) => void;
}

export type SceneMigrationStatus =
  | 'migrated'
  | 'would-migrate'
  | 'skipped'
  | 'failed'
  | 'conversion-error'
  // --verify-only
  | 'verified'
  /** The REST copy is only behind the log (edited since the migration): the next snapshot catches up. */
  | 'lagging'
  | 'mismatch'
  | 'not-migrated';

export interface SceneMigrationResult {
  sceneId: string;
  scriptId: string;
  position: number;
  status: SceneMigrationStatus;
  /** A stable code: why a scene was skipped, failed or did not verify. */
  reason?: string;
  detail?: string;
  blocks?: number;
  bytes?: number;
  seq?: bigint;
}

export interface MigrationSummary {
  mode: MigrationMode;
  scenes: number;
  migrated: number;
  wouldMigrate: number;
  skipped: number;
  skippedBy: Record<string, number>;
  failed: number;
  conversionErrors: number;
  verified: number;
  lagging: number;
  mismatched: number;
  notMigrated: number;
}

export interface MigrationReport {
  summary: MigrationSummary;
  results: SceneMigrationResult[];
}

/** One pass over the selected scenes. A failure of one scene is recorded and the pass goes on. */
export async function migrateRestToYjs(deps: MigrateDeps, options: MigrateOptions): Promise<MigrationReport> {
  const { prisma, sceneLog, logger } = deps;
  const converter = deps.converter ?? getScreenplayConverter();
  const seeder = deps.seeder ?? new SceneSeeder({ prisma, sceneLog, converter });
  if (options.scope.kind === 'script') {
    const script = await prisma.script.findUnique({ where: { scriptId: options.scope.scriptId }, select: { scriptId: true } });
    if (!script) throw new UnknownTargetError('script', options.scope.scriptId);
  }
  const scenes = await prisma.scene.findMany({
    where: options.scope.kind === 'script' ? { scriptId: options.scope.scriptId } : {},
    select: { sceneId: true, scriptId: true, position: true },
    orderBy: [{ scriptId: 'asc' }, { position: 'asc' }, { sceneId: 'asc' }],
  });

  const results: SceneMigrationResult[] = [];
  for (const scene of scenes) {
    let outcome: Omit<SceneMigrationResult, 'sceneId' | 'scriptId' | 'position'>;
    try {
      outcome =
        options.mode === 'verify-only'
          ? await verifyScene(prisma, sceneLog, converter, scene.sceneId)
          : fromSeedResult(await seeder.seedIfEmpty(scene.sceneId, { corruptionPolicy: 'log', replayExistingLog: false, dryRun: options.mode === 'dry-run' }));
    } catch (error) {
      logger.error({ err: error, sceneId: scene.sceneId }, 'scene could not be migrated');
      outcome = { status: 'failed', reason: 'ERROR', detail: error instanceof Error ? error.message : String(error) };
    }
    const result = { ...scene, ...outcome };
    results.push(result);
    deps.onScene?.(result, results.length, scenes.length);
  }
  return { summary: summarize(options.mode, results), results };
}

function fromSeedResult(result: SeedResult): Omit<SceneMigrationResult, 'sceneId' | 'scriptId' | 'position'> {
  switch (result.outcome) {
    case 'seeded':
      return { status: 'migrated', blocks: result.blockCount, bytes: result.seed.update.byteLength, seq: result.seed.version.seq };
    case 'would-seed':
      return { status: 'would-migrate', blocks: result.blockCount, bytes: result.update.byteLength };
    case 'has-log':
    case 'log-has-content':
      return { status: 'skipped', reason: 'HAS_VERSIONS', detail: `${result.storedRows} stored updates` };
    case 'nothing-to-seed':
      return { status: 'skipped', reason: 'REST_EMPTY' };
    case 'scene-not-found':
      return { status: 'skipped', reason: 'SCENE_DELETED' };
    case 'invalid-rest':
      return {
        status: 'conversion-error',
        reason: result.problem.code,
        detail: result.problem.blockIndex === undefined ? result.problem.message : `${result.problem.message} (block ${result.problem.blockIndex})`,
      };
    case 'corrupt':
      // Only `seeded-log-missing` reaches here (rows are not replayed): the scene was seeded
      // once and its rows are gone. Seeding it again silently would hide that; clear-yjs resets it.
      return {
        status: 'failed',
        reason: 'SEEDED_LOG_MISSING',
        detail: 'marked seeded but has no stored updates; inspect it, then `clear-yjs <scene> --execute` resets it',
      };
  }
}

/** Post-migration check (11.3): the replayed log equals the REST copy in canonical form. */
async function verifyScene(
  prisma: PrismaClient,
  sceneLog: SceneLog,
  converter: ScreenplayConverter,
  sceneId: string,
): Promise<Omit<SceneMigrationResult, 'sceneId' | 'scriptId' | 'position'>> {
  const rows = await sceneLog.load(sceneId);
  if (rows.length === 0) return { status: 'not-migrated', reason: 'NO_VERSIONS' };
  const scene = await prisma.scene.findUnique({
    where: { sceneId },
    select: { contentBlocks: true, snapshotSource: true, snapshotSeq: true, yjsChecksum: true, yjsDerived: true },
  });
  if (!scene) return { status: 'skipped', reason: 'SCENE_DELETED' };
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, replayUpdates(rows).state);
    const report = compareSceneContent({
      sceneId,
      hasYjsLog: true,
      ...readYjsSide(doc, converter),
      yjsSeq: rows.reduce((max, row) => (row.seq > max ? row.seq : max), rows[0]!.seq),
      restBlocks: scene.contentBlocks,
      restSnapshotSeq: scene.snapshotSeq,
      restRecordedChecksum: scene.yjsChecksum,
      restYjsDerived: scene.yjsDerived,
      checkedAt: new Date(),
    });
    if (isLagging(report.cause)) {
      return {
        status: 'lagging',
        reason: 'REST_BEHIND_LOG',
        blocks: report.yjs_block_count,
        detail: `REST copy at seq ${report.rest_snapshot_seq ?? 'none'}, log at seq ${report.yjs_seq}; the next snapshot brings it up to date`,
      };
    }
    switch (report.cause) {
      case 'in_sync':
        return { status: 'verified', blocks: report.yjs_block_count, detail: `snapshot_source ${scene.snapshotSource}` };
      case 'yjs_unreadable':
        return { status: 'mismatch', reason: 'YJS_UNREADABLE', detail: report.yjs_error ?? undefined };
      case 'invalid_rest':
        return { status: 'mismatch', reason: 'REST_INVALID', detail: report.rest_error ?? undefined };
      default:
        return {
          status: 'mismatch',
          reason: 'CONTENT_DIFFERS',
          detail: `Yjs ${report.yjs_block_count} blocks, REST ${report.rest_block_count}; first difference at block ${firstDifferentBlock(report)}`,
        };
    }
  } finally {
    doc.destroy();
  }
}

function summarize(mode: MigrationMode, results: readonly SceneMigrationResult[]): MigrationSummary {
  const count = (status: SceneMigrationStatus) => results.filter((r) => r.status === status).length;
  const skippedBy: Record<string, number> = {};
  for (const r of results) if (r.status === 'skipped') skippedBy[r.reason ?? 'OTHER'] = (skippedBy[r.reason ?? 'OTHER'] ?? 0) + 1;
  return {
    mode,
    scenes: results.length,
    migrated: count('migrated'),
    wouldMigrate: count('would-migrate'),
    skipped: count('skipped'),
    skippedBy,
    failed: count('failed'),
    conversionErrors: count('conversion-error'),
    verified: count('verified'),
    lagging: count('lagging'),
    mismatched: count('mismatch'),
    notMigrated: count('not-migrated'),
  };
}

/** Exit code of a pass: anything that did not migrate or verify is a failure; a lagging REST copy is not. */
export function migrationExitCode(summary: MigrationSummary): number {
  return summary.failed + summary.conversionErrors + summary.mismatched > 0 ? EXIT.FAILED : EXIT.OK;
}

// ---- command line ------------------------------------------------------------------------------

interface MigrateArgs extends MigrateOptions {
  json: boolean;
  /** Migrate `--all` even when the readiness checks fail. */
  force: boolean;
  /** Passed to the readiness checks: the jobs run in `npm run worker`. */
  expectWorker: boolean;
}

const SKIP_REASONS: Record<string, string> = {
  HAS_VERSIONS: 'already has versions',
  REST_EMPTY: 'REST copy empty',
  SCENE_DELETED: 'scene deleted meanwhile',
};

export const migrateRestToYjsCommand: JobCommand<MigrateArgs> = {
  name: 'migrate-rest-to-yjs',
  summary: 'seed the Yjs log of scenes that have REST content and no versions (or --verify-only)',
  usage: [
    'usage: npm run job -- migrate-rest-to-yjs (--all | --script-id <uuid>) [--dry-run | --verify-only] [--force] [--expect-worker] [--json]',
    '',
    '  --all               every scene of every script',
    '  --script-id <uuid>  the scenes of one script',
    '  --dry-run           convert and verify the round trip, store nothing (default scope: --all)',
    '  --verify-only       compare each migrated scene\'s log with its REST copy (default scope: --all)',
    '  --json              print the report as JSON on stdout',
    '  --force             migrate --all even when `readiness` fails (it runs first, and refuses otherwise)',
    '  --expect-worker     for the readiness checks: the scheduled jobs run in `npm run worker`',
    '',
    'Skips scenes that already have versions. Verifies REST -> Yjs -> REST before storing. Exits 1 when',
    'a scene failed, could not be converted or did not verify; a REST copy only behind the log (edited',
    'since, the next snapshot catches up) is reported as lagging and is not a failure.',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(
      argv,
      {
        all: { type: 'boolean' },
        'script-id': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'verify-only': { type: 'boolean' },
        json: { type: 'boolean' },
        force: { type: 'boolean' },
        'expect-worker': { type: 'boolean' },
      },
      { min: 0, max: 0, names: '' },
    );
    if (values['dry-run'] && values['verify-only']) throw new UsageError('--dry-run and --verify-only cannot be combined');
    if (values.all && values['script-id'] !== undefined) throw new UsageError('--all and --script-id cannot be combined');
    const mode: MigrationMode = values['dry-run'] ? 'dry-run' : values['verify-only'] ? 'verify-only' : 'migrate';
    // Writing to every scene must be asked for; looking at them is safe by default.
    if (mode === 'migrate' && !values.all && values['script-id'] === undefined) {
      throw new UsageError('say which scenes: --all or --script-id <uuid>');
    }
    const scope: MigrationScope =
      values['script-id'] !== undefined ? { kind: 'script', scriptId: parseUuid(values['script-id'] as string, '--script-id') } : { kind: 'all' };
    return { mode, scope, json: Boolean(values.json), force: Boolean(values.force), expectWorker: Boolean(values['expect-worker']) };
  },
  async run(args, context) {
    const { database, logger, output } = context;
    const label = args.mode === 'migrate' ? '' : ` (${args.mode})`;
    // Section 11.3: the migration of every scene starts only on a deployment that passes the
    // pre-migration checks. One script can be tried without them; a look (dry run, verify) writes nothing.
    if (args.mode === 'migrate' && args.scope.kind === 'all') {
      const readiness = await checkReadiness({ database, config: context.config, logger }, { sample: DEFAULT_READINESS_SAMPLE, expectWorker: args.expectWorker });
      if (!readiness.ready && !args.force) {
        for (const line of formatReadiness(readiness)) output.progress(line);
        output.progress(`migrate-rest-to-yjs: refused, not ready (${readiness.failed.join(', ')}); fix the checks above, or pass --force to migrate anyway`);
        return EXIT.FAILED;
      }
      if (!readiness.ready) output.progress(`migrate-rest-to-yjs: not ready (${readiness.failed.join(', ')}), migrating anyway (--force)`);
    }
    const report = await migrateRestToYjs(
      {
        prisma: database.prisma,
        sceneLog: new SceneLog(database.sql),
        logger,
        onScene: (result, done, total) => output.progress(`[${done}/${total}] ${result.sceneId} ${describeResult(result)}`),
      },
      args,
    );
    const { summary } = report;
    if (args.json) {
      output.result(JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2));
      return migrationExitCode(summary);
    }
    output.result(`migrate-rest-to-yjs${label}: ${summary.scenes} scene(s)`);
    if (args.mode === 'verify-only') {
      output.result(`  verified:          ${summary.verified}`);
      output.result(`  lagging:           ${summary.lagging}`);
      output.result(`  mismatched:        ${summary.mismatched}`);
      output.result(`  not migrated:      ${summary.notMigrated}`);
    } else {
      output.result(args.mode === 'dry-run' ? `  would migrate:     ${summary.wouldMigrate}` : `  migrated:          ${summary.migrated}`);
      const reasons = Object.entries(summary.skippedBy).map(([reason, n]) => `${SKIP_REASONS[reason] ?? reason}: ${n}`);
      output.result(`  skipped:           ${summary.skipped}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`);
      output.result(`  conversion errors: ${summary.conversionErrors}`);
    }
    output.result(`  failed:            ${summary.failed}`);
    for (const result of report.results.filter((r) => ['failed', 'conversion-error', 'mismatch'].includes(r.status))) {
      output.result(`  ${result.status} ${result.sceneId}: ${result.reason}${result.detail ? ` - ${result.detail}` : ''}`);
    }
    return migrationExitCode(summary);
  },
};

function describeResult(result: SceneMigrationResult): string {
  switch (result.status) {
    case 'migrated':
      return `migrated (${result.blocks} blocks, ${result.bytes} bytes, seq ${result.seq})`;
    case 'would-migrate':
      return `would migrate (${result.blocks} blocks, ${result.bytes} bytes)`;
    case 'verified':
      return `verified (${result.blocks} blocks)`;
    case 'skipped':
      return `skipped: ${SKIP_REASONS[result.reason ?? ''] ?? result.reason}`;
    default:
      return `${result.status}: ${result.reason}${result.detail ? ` - ${result.detail}` : ''}`;
  }
}
