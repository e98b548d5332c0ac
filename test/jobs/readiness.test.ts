import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDatabase } from '../../src/db/client.ts';
import { silentLogger } from '../../src/logger.ts';
import { checkReadiness, formatReadiness, type ReadinessReport } from '../../jobs/readiness.ts';
import { createEmptyPostgresDatabase, createTestDatabase, describeEachDatabase, testDatabaseKinds } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { OTHER_BLOCKS, SCENE_BLOCKS } from '../seeding/support.ts';
import { lines, runJobCli } from './support.ts';

const logger = silentLogger();
/** Blocks the converters refuse: a text that is not a string. */
const INVALID = [{ type: 'action', text: 12 }];
const READY_ENV = { NODE_ENV: 'test', JOBS_ENABLED: 'true' };
const statusOf = (report: ReadinessReport) => Object.fromEntries(report.checks.map((check) => [check.name, check.status]));

describeEachDatabase('readiness (direct)', (db) => {
  it('is ready on a migrated database whose REST content round-trips, with the jobs configured', async () => {
    await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS, OTHER_BLOCKS, []] });
    const report = await checkReadiness({ database: db().database, config: loadConfig(READY_ENV), logger }, { sample: 10, expectWorker: false });
    expect(statusOf(report)).toEqual({ schema: 'pass', 'log-write': 'pass', converters: 'pass', 'background-jobs': 'pass', redis: 'pass' });
    expect(report).toMatchObject({ ready: true, failed: [] });
    expect(report.checks.find((c) => c.name === 'converters')!.summary).toContain('2 scenes');
    // The probe's append was rolled back: no user, script, scene or row is left.
    expect(await db().prisma.script.count()).toBe(1);
    expect(await db().prisma.user.count()).toBe(1);
    expect(await db().database.sql.query('test_rows', 'SELECT 1 FROM scene_versions', [])).toEqual([]);
    expect(formatReadiness(report)[0]).toMatch(/^readiness: READY \((PostgreSQL|PGlite) /);
  });

  it('names the scenes that do not round-trip, and the jobs that would not run', async () => {
    const broken = await createScript(db().prisma, { sceneContents: [INVALID], title: 'Broken' });
    // The database is the file's: the broken scene goes with this test, so the others' samples never draw it.
    onTestFinished(() => db().prisma.script.delete({ where: { scriptId: broken.scriptId } }).then(() => undefined));
    const report = await checkReadiness({ database: db().database, config: loadConfig({ NODE_ENV: 'test', JOBS_ENABLED: 'false' }), logger }, { sample: 10, expectWorker: false });
    expect(report.ready).toBe(false);
    expect(report.failed).toEqual(['converters', 'background-jobs']);
    const converters = report.checks.find((c) => c.name === 'converters')!;
    expect(converters.details[0]).toMatch(new RegExp(`^${broken.sceneIds[0]}: INVALID_REST_BLOCKS`));
    expect(report.checks.find((c) => c.name === 'background-jobs')!.summary).toContain('JOBS_ENABLED is off');
    const withWorker = await checkReadiness({ database: db().database, config: loadConfig({ NODE_ENV: 'test', JOBS_ENABLED: 'false' }), logger }, { sample: 10, expectWorker: true });
    expect(statusOf(withWorker)['background-jobs']).toBe('pass');
    const noCompaction = await checkReadiness({ database: db().database, config: loadConfig({ ...READY_ENV, COMPACTION_INTERVAL_MS: '0' }), logger }, { sample: 10, expectWorker: false });
    expect(noCompaction.checks.find((c) => c.name === 'background-jobs')).toMatchObject({ status: 'pass', details: ['compaction is off (interval 0)'] });
  });

  it('checks Redis when REDIS_URL is set: a server that answers passes, a port nobody listens on fails', async () => {
    const up = await checkReadiness({ database: db().database, config: loadConfig({ ...READY_ENV, REDIS_URL: 'redis://127.0.0.1:6379' }), logger }, { sample: 1, expectWorker: false });
    expect(up.checks.find((c) => c.name === 'redis')).toMatchObject({ status: 'pass', summary: 'redis://127.0.0.1:6379 answers PING' });
    const down = await checkReadiness({ database: db().database, config: loadConfig({ ...READY_ENV, REDIS_URL: 'redis://127.0.0.1:1' }), logger }, { sample: 1, expectWorker: false });
    expect(down.failed).toEqual(['redis']);
    expect(down.checks.find((c) => c.name === 'redis')!.summary).toMatch(/^redis:\/\/127\.0\.0\.1:1 is not reachable: /);
  });
});

describe.skipIf(!testDatabaseKinds().includes('postgres'))('readiness from the command line (PostgreSQL)', () => {
  it('a fresh database is not ready: pending migrations, the rest not run; exit 1', async () => {
    const empty = await createEmptyPostgresDatabase();
    try {
      const database = await createDatabase({ databaseUrl: empty.databaseUrl, dataDir: '', poolSize: 1, logger });
      try {
        const report = await checkReadiness({ database, config: loadConfig(READY_ENV), logger }, { sample: 10, expectWorker: false });
        expect(statusOf(report)).toEqual({ schema: 'fail', 'log-write': 'skipped', converters: 'skipped', 'background-jobs': 'pass', redis: 'pass' });
        const schema = report.checks[0]!;
        expect(schema.details).toContain('no _prisma_migrations table: the database was never migrated');
        expect(schema.details.some((line) => /^pending: \d+_init$/.test(line))).toBe(true);
      } finally {
        await database.close();
      }
      const cli = await runJobCli(['readiness'], { DATABASE_URL: empty.databaseUrl, JOBS_ENABLED: 'true' });
      expect(cli.code).toBe(1);
      expect(cli.stdout).toContain('readiness: NOT READY (PostgreSQL');
      expect(cli.stdout).toMatch(/FAIL {2}schema +not up to date/);
      expect(cli.stdout).toContain('not ready: schema, log-write, converters');
    } finally {
      await empty.drop();
    }
  });

  it('--json when ready; migrate-rest-to-yjs --all refuses when not ready, unless --force', async () => {
    const db = await createTestDatabase('postgres');
    try {
      const { sceneIds } = await createScript(db.prisma, { sceneContents: [SCENE_BLOCKS, OTHER_BLOCKS] });
      const ready = await runJobCli(['readiness', '--json', '--sample', '5'], { DATABASE_URL: db.databaseUrl!, JOBS_ENABLED: 'true' });
      expect(ready.code).toBe(0);
      expect(JSON.parse(ready.stdout)).toMatchObject({
        ready: true,
        failed: [],
        checks: expect.arrayContaining([
          expect.objectContaining({ name: 'schema', status: 'pass' }),
          expect.objectContaining({ name: 'log-write', status: 'pass' }),
        ]),
      });

      // NODE_ENV=test runs no jobs in the servers: not ready.
      const refused = await runJobCli(['migrate-rest-to-yjs', '--all'], { DATABASE_URL: db.databaseUrl! });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(lines(refused.stderr).at(-1)).toBe(
        'migrate-rest-to-yjs: refused, not ready (background-jobs); fix the checks above, or pass --force to migrate anyway',
      );
      expect(await db.prisma.sceneVersion.count()).toBe(0);

      const forced = await runJobCli(['migrate-rest-to-yjs', '--all', '--force'], { DATABASE_URL: db.databaseUrl! });
      expect(forced.code).toBe(0);
      expect(forced.stderr).toContain('not ready (background-jobs), migrating anyway (--force)');
      expect(forced.stdout).toContain('migrated:          2');
      expect(await db.prisma.sceneVersion.count()).toBe(sceneIds.length);
    } finally {
      await db.close();
    }
  });
});
