// readiness (architecture document 11.3, pre-migration validation): whether this deployment can
// take the migration of its REST content to Yjs. Read-only: the one write, a test append, is
// rolled back. `migrate-rest-to-yjs --all` runs the same checks first.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import * as Y from 'yjs';
import type { Config } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import { diffMigrationsToSchema, migrationStatus } from '../src/db/migrator.ts';
import { AlreadyInLog, SceneLog } from '../src/log/sceneLog.ts';
import type { Logger } from '../src/logger.ts';
import { describeRedisEndpoint, parseRedisUrl } from '../src/redis/connection.ts';
import { prepareSeed } from '../src/restCopy/restContent.ts';
import { SCREENPLAY_FRAGMENT_NAME } from '../src/screenplay/index.ts';
import { EXIT, parseJobArgs, UsageError, type JobCommand } from './command.ts';
import { toJson } from './format.ts';

export type CheckName = 'schema' | 'log-write' | 'converters' | 'background-jobs' | 'redis';

/** `skipped`: the check could not run because an earlier one failed; it counts as not ready. */
export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface ReadinessCheck {
  name: CheckName;
  status: CheckStatus;
  /** One line for a person. */
  summary: string;
  /** Further lines: what failed, what to do, what could not be known. */
  details: string[];
}

export interface ReadinessReport {
  ready: boolean;
  /** `PostgreSQL host:port/db` or `PGlite <dir>`; never a password. */
  database: string;
  checks: ReadinessCheck[];
  /** The names of the checks that did not pass. */
  failed: CheckName[];
}

export interface ReadinessOptions {
  /** Most scenes whose REST content the converters round-trip. */
  sample: number;
  /** The jobs run in `npm run worker` processes, not in the servers (`JOBS_ENABLED=false` is then expected). */
  expectWorker: boolean;
  /**
   * Also check that prisma/migrations agree with schema.prisma. That is a property of the code, not
   * of the deployment (the test suite checks it at every commit), and it replays every migration on a
   * scratch database (several seconds), so it is asked for (`--drift`).
   */
  drift?: boolean;
}

export const DEFAULT_READINESS_SAMPLE = 200;

export interface ReadinessDeps {
  database: Database;
  config: Config;
  logger: Logger;
  /** How long Redis may take to answer a PING. */
  redisTimeoutMs?: number;
}

/** Every check, in order; a check that cannot run on a database with a pending schema is skipped. */
export async function checkReadiness(deps: ReadinessDeps, options: ReadinessOptions): Promise<ReadinessReport> {
  const checks: ReadinessCheck[] = [];
  const schema = await guarded('schema', () => checkSchema(deps, options.drift ?? false));
  checks.push(schema);
  const tablesUsable = schema.status === 'pass';
  const skipped = (name: CheckName): ReadinessCheck => ({ name, status: 'skipped', summary: 'not run: the schema is not up to date', details: [] });
  checks.push(tablesUsable ? await guarded('log-write', () => checkLogWrite(deps)) : skipped('log-write'));
  checks.push(tablesUsable ? await guarded('converters', () => checkConverters(deps, options.sample)) : skipped('converters'));
  checks.push(checkBackgroundJobs(deps.config, options.expectWorker));
  checks.push(await guarded('redis', () => checkRedis(deps.config, deps.redisTimeoutMs ?? 3000)));
  const failed = checks.filter((check) => check.status !== 'pass').map((check) => check.name);
  const { database } = deps;
  return { ready: failed.length === 0, database: `${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} ${database.description}`, checks, failed };
}

/** A check that throws is a failed check with the error's message, never a failed command. */
async function guarded(name: CheckName, check: () => Promise<ReadinessCheck>): Promise<ReadinessCheck> {
  try {
    return await check();
  } catch (error) {
    return { name, status: 'fail', summary: `could not be checked: ${firstLine(error)}`, details: [] };
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** The database's migration history against prisma/migrations, and prisma/migrations against schema.prisma. */
async function checkSchema({ database, logger }: ReadinessDeps, drift: boolean): Promise<ReadinessCheck> {
  const status = await migrationStatus({ target: database.migrationTarget, logger });
  const details = [
    ...(status.hasMigrationsTable ? [] : ['no _prisma_migrations table: the database was never migrated']),
    ...status.pendingMigrationNames.map((name) => `pending: ${name}`),
    ...status.failedMigrationNames.map((name) => `failed: ${name} (resolve it before anything else)`),
    ...status.editedMigrationNames.map((name) => `edited after it was applied: ${name}`),
    ...status.unknownMigrationNames.map((name) => `applied here but not in prisma/migrations: ${name} (a newer version of the code migrated this database)`),
  ];
  // Replays the migrations on an in-memory shadow database: a schema.prisma ahead of its migrations
  // means the code expects columns no migration creates.
  if (drift && (await diffMigrationsToSchema({ logger })) !== '') {
    details.push('prisma/migrations lack changes of schema.prisma (`npx tsx src/db/cli.ts check` prints them)');
  }
  if (details.length > 0) {
    const fix = status.pendingMigrationNames.length > 0 || !status.hasMigrationsTable ? ['run `npm run db:migrate` (or start the server, which migrates)'] : [];
    return { name: 'schema', status: 'fail', summary: 'not up to date', details: [...details, ...fix] };
  }
  const checked = drift ? ', no drift from schema.prisma' : '';
  return { name: 'schema', status: 'pass', summary: `up to date: no pending, failed or edited migration${checked}`, details: [] };
}

/** Rolls the probe's transaction back once the append was checked. */
class ProbeRolledBack extends Error {}

/**
 * A throwaway user, script and scene, one append through the log's own statement and a load of it,
 * in one transaction that is always rolled back: nothing is left behind, no real scene's head is
 * locked, and the change feed never sees the row.
 */
async function checkLogWrite({ database }: ReadinessDeps): Promise<ReadinessCheck> {
  const doc = new Y.Doc();
  doc.getXmlFragment(SCREENPLAY_FRAGMENT_NAME).insert(0, [new Y.XmlElement('action')]);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  const sceneLog = new SceneLog(database.sql);
  let outcome = '';
  try {
    await database.prisma.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email: `readiness-${randomUUID()}@invalid` } });
      const script = await tx.script.create({ data: { ownerId: user.userId, title: 'readiness probe' } });
      const scene = await tx.scene.create({ data: { scriptId: script.scriptId, position: 0 } });
      const log = sceneLog.withTransaction(tx);
      const [appended] = await log.append([{ sceneId: scene.sceneId, update, createdBy: user.userId }]);
      if (appended === undefined || appended instanceof Error || appended instanceof AlreadyInLog) {
        outcome = `the append was not stored (${appended instanceof Error ? appended.message : 'already in the log'})`;
      } else {
        const loaded = await log.loadUpdates(scene.sceneId);
        outcome =
          loaded.updates.length === 1 && Buffer.from(loaded.updates[0]!).equals(Buffer.from(update)) && appended.seq === 1n
            ? 'ok'
            : `the stored update did not read back (${loaded.updates.length} rows, seq ${appended.seq})`;
      }
      throw new ProbeRolledBack();
      // Prisma's 5-second default would fail the probe on a loaded database for no fault of the log.
    }, { maxWait: 30_000, timeout: 30_000 });
  } catch (error) {
    if (!(error instanceof ProbeRolledBack)) throw error;
  }
  if (outcome !== 'ok') return { name: 'log-write', status: 'fail', summary: outcome, details: [] };
  return { name: 'log-write', status: 'pass', summary: 'a test append was stored, read back and rolled back', details: [] };
}

/**
 * REST -> Yjs -> REST on this database's own REST copies, the conversion a migration stores: up to
 * `sample` scenes, those not seeded yet first (what the migration will convert), the rest at random.
 */
async function checkConverters({ database }: ReadinessDeps, sample: number): Promise<ReadinessCheck> {
  const rows = await database.prisma.$queryRaw<Array<{ scene_id: string; content_blocks: unknown; total: bigint | number }>>`
    SELECT scene_id, content_blocks, count(*) OVER () AS total
    FROM scenes
    WHERE deleted_at IS NULL AND content_blocks <> '[]'::jsonb
    ORDER BY (yjs_seeded_at IS NULL) DESC, random()
    LIMIT ${sample}`;
  const total = rows.length === 0 ? 0 : Number(rows[0]!.total);
  const failing: string[] = [];
  for (const row of rows) {
    const seed = prepareSeed(row.content_blocks);
    if (seed.kind === 'invalid') {
      const at = seed.problem.blockIndex === undefined ? '' : ` (block ${seed.problem.blockIndex})`;
      failing.push(`${row.scene_id}: ${seed.problem.code}: ${seed.problem.message}${at}`);
    }
  }
  const of = total > rows.length ? `${rows.length} sampled of ${total}` : `${rows.length}`;
  if (failing.length > 0) {
    return {
      name: 'converters',
      status: 'fail',
      summary: `${failing.length} of ${of} scenes with REST content do not round-trip`,
      details: [...failing, 'these scenes would be refused by migrate-rest-to-yjs (conversion-error); fix their content_blocks first'],
    };
  }
  return { name: 'converters', status: 'pass', summary: `REST -> Yjs -> REST keeps the content of ${of} scenes with REST content`, details: [] };
}

/**
 * What the configuration says about the scheduled jobs. Whether a worker process really runs them
 * elsewhere cannot be seen from here, so the operator says so with `--expect-worker`.
 */
function checkBackgroundJobs(config: Config, expectWorker: boolean): ReadinessCheck {
  const { jobs, snapshots } = config;
  // SNAPSHOT_INTERVAL_MS is always positive (src/config.ts): the REST copies' safety net cannot be off.
  const schedule = [
    ['snapshot', snapshots.intervalMs],
    ['compaction', jobs.compaction.intervalMs],
    ['retention', jobs.retention.intervalMs],
    ['divergence', jobs.divergence.intervalMs],
  ] as const;
  const off = schedule.filter(([, ms]) => ms === 0).map(([name]) => `${name} is off (interval 0)`);
  const listed = schedule
    .filter(([, ms]) => ms > 0)
    .map(([name, ms]) => `${name} every ${ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`}`)
    .join(', ');
  if (!jobs.enabled && !expectWorker) {
    return {
      name: 'background-jobs',
      status: 'fail',
      summary: 'JOBS_ENABLED is off: servers with this configuration run no scheduled job',
      details: ['run `npm run worker` beside them and pass --expect-worker, or set JOBS_ENABLED=true', ...off],
    };
  }
  const where = jobs.enabled ? 'in each server (JOBS_ENABLED)' : 'in `npm run worker` (--expect-worker: not verifiable from here)';
  return { name: 'background-jobs', status: 'pass', summary: `scheduled ${where}: ${listed}`, details: off };
}

/** A PING within the timeout, when `REDIS_URL` is set. */
async function checkRedis(config: Config, timeoutMs: number): Promise<ReadinessCheck> {
  if (!config.redis.url) return { name: 'redis', status: 'pass', summary: 'REDIS_URL is not set: single instance, nothing to check', details: [] };
  const endpoint = parseRedisUrl(config.redis.url);
  const where = describeRedisEndpoint(endpoint);
  // No retries and no offline queue: one attempt that fails fast, never a reconnect loop.
  const client = new Redis({ ...endpoint, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // ioredis reports a failed connection on 'error' as well as through the rejected promise; the promise is what decides.
  client.on('error', () => {});
  try {
    await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') return { name: 'redis', status: 'fail', summary: `${where} answered ${answer} to PING`, details: [] };
    return { name: 'redis', status: 'pass', summary: `${where} answers PING`, details: [] };
  } catch (error) {
    return { name: 'redis', status: 'fail', summary: `${where} is not reachable: ${firstLine(error)}`, details: ['several instances share documents through it; start it, or unset REDIS_URL for a single instance'] };
  } finally {
    client.disconnect();
  }
}

/** The report as a person reads it. */
export function formatReadiness(report: ReadinessReport): string[] {
  const lines = [`readiness: ${report.ready ? 'READY' : 'NOT READY'} (${report.database})`];
  const width = Math.max(...report.checks.map((check) => check.name.length));
  for (const check of report.checks) {
    const mark = check.status === 'pass' ? 'ok  ' : check.status === 'fail' ? 'FAIL' : 'SKIP';
    lines.push(`  ${mark}  ${check.name.padEnd(width)}  ${check.summary}`);
    for (const detail of check.details) lines.push(`        ${' '.repeat(width)}  - ${detail}`);
  }
  if (!report.ready) lines.push('', `not ready: ${report.failed.join(', ')}`);
  return lines;
}

interface ReadinessArgs extends ReadinessOptions {
  json: boolean;
}

export const readinessCommand: JobCommand<ReadinessArgs> = {
  name: 'readiness',
  summary: 'check that the deployment can take the REST -> Yjs migration (schema, log, converters, jobs, Redis)',
  usage: [
    'usage: npm run job -- readiness [--sample <n>] [--expect-worker] [--drift] [--json]',
    '',
    `  --sample <n>      round-trip the REST content of at most n scenes (default ${DEFAULT_READINESS_SAMPLE})`,
    '  --expect-worker   the scheduled jobs run in `npm run worker`, so JOBS_ENABLED=false is expected',
    '  --drift           also check prisma/migrations against schema.prisma (replays them; several seconds)',
    '  --json            print the report as JSON on stdout',
    '',
    'Checks: the schema is up to date (no pending, failed or edited migration, no drift), the log can',
    'be written (a test append, rolled back), the converters round-trip this database\'s REST content,',
    'the background jobs are configured, Redis answers when REDIS_URL is set. Exits 1 when not ready.',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(
      argv,
      { sample: { type: 'string' }, 'expect-worker': { type: 'boolean' }, drift: { type: 'boolean' }, json: { type: 'boolean' } },
      { min: 0, max: 0, names: '' },
    );
    const sampleText = values.sample as string | undefined;
    if (sampleText !== undefined && !/^[1-9]\d{0,6}$/.test(sampleText)) throw new UsageError(`--sample must be a positive integer, got ${JSON.stringify(sampleText)}`);
    return {
      sample: sampleText === undefined ? DEFAULT_READINESS_SAMPLE : Number(sampleText),
      expectWorker: Boolean(values['expect-worker']),
      drift: Boolean(values.drift),
      json: Boolean(values.json),
    };
  },
  async run(args, { database, config, logger, output }) {
    const report = await checkReadiness({ database, config, logger }, args);
    if (args.json) output.result(toJson(report));
    else for (const line of formatReadiness(report)) output.result(line);
    return report.ready ? EXIT.OK : EXIT.FAILED;
  },
};
