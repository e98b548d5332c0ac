import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JOB_COMMANDS } from '../../jobs/registry.ts';
import { runJobCli as runInProcess } from '../../jobs/runner.ts';
import { silentLogger } from '../../src/logger.ts';
import { createTestDatabase, describeEachDatabase, testDatabaseKinds } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { SCENE_BLOCKS } from '../seeding/support.ts';
import { lines, runJobCli, type CliRun } from './support.ts';

// Argument errors are found before the database is opened: these runs have no database at all.
const NO_DATABASE = { DATABASE_URL: '', DATA_DIR: '/nonexistent/never-created' };

/** The same runner `jobs/cli.ts` calls, in this process: the argument table stays fast. */
async function runHere(args: readonly string[], env: Record<string, string> = NO_DATABASE): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runInProcess(args, {
    env: { NODE_ENV: 'test', ...env },
    stdout: (line) => (stdout += `${line}\n`),
    stderr: (line) => (stderr += `${line}\n`),
    logger: () => silentLogger(),
  });
  return { code, stdout, stderr };
}

describe('job command line (spawned): usage, argument errors, configuration', () => {
  it('lists the jobs; --help exits 0, no job exits 2', async () => {
    const help = await runJobCli(['--help'], NO_DATABASE);
    expect(help.code).toBe(0);
    for (const command of JOB_COMMANDS) expect(help.stdout).toContain(command.name);
    const none = await runJobCli([], NO_DATABASE);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: npm run job -- <job>');
  });

  it.each([
    [['nosuchjob'], /^job: unknown job 'nosuchjob'/],
    [['migrate-rest-to-yjs', '--script-id', 'not-a-uuid'], /^migrate-rest-to-yjs: --script-id must be a UUID/],
    [['diagnose', '--verbose'], /^diagnose: unknown option --verbose/],
    [['clear-yjs'], /^clear-yjs: missing argument: <scene-or-script-id>/],
  ] as const)('%j exits 2 with one line on stderr', async (args, message) => {
    const run = await runJobCli(args, NO_DATABASE);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(message)]);
    expect(run.stdout).toBe('');
  });

  it('an invalid configuration exits 2 before any database is opened', async () => {
    const run = await runJobCli(['diagnose'], { DATABASE_URL: 'mysql://nope' });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^diagnose: invalid configuration: DATABASE_URL/)]);
  });

  it('an unreachable database exits 1 with one line', async () => {
    const run = await runJobCli(['diagnose'], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' });
    expect(run.code).toBe(1);
    expect(lines(run.stderr).filter((line) => line.startsWith('diagnose:'))).toHaveLength(1);
  });
});

describe('job runner (in process): every argument error is a one-line usage error', () => {
  it.each(JOB_COMMANDS.map((c) => c.name))('%s --help prints its options and exits 0', async (name) => {
    const run = await runHere([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`usage: npm run job -- ${name}`);
  });

  it.each([
    [['migrate-rest-to-yjs'], /--all or --script-id/],
    [['migrate-rest-to-yjs', '--all', '--script-id', randomUUID()], /cannot be combined/],
    [['migrate-rest-to-yjs', '--dry-run', '--verify-only'], /cannot be combined/],
    [['migrate-rest-to-yjs', '--script-id'], /--script-id needs a value/],
    [['migrate-rest-to-yjs', '--script-id', '1234'], /--script-id must be a UUID/],
    [['migrate-rest-to-yjs', '--al'], /unknown option --al/],
    [['migrate-rest-to-yjs', '--all', '--dry-run=yes'], /does not take an argument/],
    [['diagnose', '--script-id', 'x'.repeat(200)], /must be a UUID/],
    [['diagnose', 'extra'], /unexpected argument: extra/],
    [['clear-yjs', 'abc'], /must be a UUID/],
    [['clear-yjs', randomUUID(), '--dry-run'], /unknown option --dry-run/],
    [['clear-yjs', randomUUID(), randomUUID()], /unexpected argument/],
    [['clear-yjs', randomUUID(), '--export-dir'], /--export-dir needs a value/],
  ] as const)('%j exits 2', async (args, message) => {
    const run = await runHere(args);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(new RegExp(`^${args[0]}: `));
    expect(run.stdout).toBe('');
  });
});

describeEachDatabase('job command line: unknown ids', { kinds: ['postgres'] }, (db) => {
  it('migrate-rest-to-yjs --script-id <unknown uuid> exits 2 (spawned)', async () => {
    const id = randomUUID();
    const run = await runJobCli(['migrate-rest-to-yjs', '--script-id', id], { DATABASE_URL: db().databaseUrl! });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([`migrate-rest-to-yjs: no script with id ${id}`]);
  });

  it.each([['migrate-rest-to-yjs', '--script-id'], ['migrate-rest-to-yjs', '--verify-only', '--script-id'], ['diagnose', '--script-id'], ['clear-yjs']])(
    '%s %s <unknown uuid> exits 2',
    async (...args) => {
      const id = randomUUID();
      const run = await runHere([...args, id], { DATABASE_URL: db().databaseUrl! });
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([expect.stringContaining(`with id ${id}`)]);
    },
  );
});

describe.skipIf(!testDatabaseKinds().includes('pglite'))('job command line on PGlite under DATA_DIR', () => {
  it('opens the embedded database the server would use', async () => {
    const db = await createTestDatabase('pglite');
    try {
      const { scriptId } = await createScript(db.prisma, { sceneContents: [SCENE_BLOCKS] });
      // PGlite belongs to one process: the job takes the directory over.
      await db.release();
      const migrated = await runJobCli(['migrate-rest-to-yjs', '--script-id', scriptId], { DATABASE_URL: '', DATA_DIR: db.dataDir! });
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toContain('migrated:          1');
      const diagnosis = await runJobCli(['diagnose', '--json'], { DATABASE_URL: '', DATA_DIR: db.dataDir! });
      expect(diagnosis.code).toBe(0);
      expect((JSON.parse(diagnosis.stdout) as { scenesWithUpdates: unknown[] }).scenesWithUpdates).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
});
