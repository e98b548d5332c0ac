import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePrismaClient } from '../../src/db/generate.ts';
import { defaultSchemaPath, loadMigrations } from '../../src/db/migrationFiles.ts';
import { createEmptyPostgresDatabase } from '../helpers/db.ts';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tsx src/db/cli.ts ...` with only the given variables (plus PATH) in its environment. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(tsx, ['src/db/cli.ts', ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function migrationNames(): Promise<string[]> {
  return (await loadMigrations()).migrationDirectories.map((directory) => directory.path);
}

describe('src/db/cli.ts', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('migrate: one clear line and exit code 1 when the server does not answer', async () => {
    const result = await cli(['migrate'], { DATABASE_URL: 'postgresql://postgres:hunter2@127.0.0.1:1/writersroom' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'error: cannot connect to PostgreSQL at 127.0.0.1:1/writersroom: connection refused (is the server running and listening on that port?)',
    );
    expect(result.stdout).toBe('');
  });

  it('migrate: one clear line and exit code 1 for a URL that is not PostgreSQL', async () => {
    const result = await cli(['migrate'], { DATABASE_URL: 'mysql://root@localhost/app' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: invalid configuration: DATABASE_URL: must be a URL starting with postgres:// or postgresql://');
  });

  it('migrate: applies to DATABASE_URL and prints what it applied, then that nothing is pending', async () => {
    const database = await createEmptyPostgresDatabase();
    cleanups.push(() => database.drop());

    const first = await cli(['migrate'], { DATABASE_URL: database.databaseUrl });
    expect(first.code).toBe(0);
    for (const name of await migrationNames()) expect(first.stdout).toContain(`applied ${name}\n`);

    const second = await cli(['migrate'], { DATABASE_URL: database.databaseUrl });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('no pending migrations: the database is up to date');

    const status = await cli(['status'], { DATABASE_URL: database.databaseUrl });
    expect(status.stdout).toContain('migrations: the database is up to date');
    expect(status.stdout).toContain('no drift');
    expect(status.code).toBe(0);
  });

  it('migrate: without DATABASE_URL, applies to PGlite under DATA_DIR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wr-test-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    const result = await cli(['migrate'], { DATA_DIR: dataDir });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`migrating PGlite ${join(dataDir, 'pglite')}`);
    for (const name of await migrationNames()) expect(result.stdout).toContain(`applied ${name}\n`);
    expect(await readdir(join(dataDir, 'pglite'))).toContain('PG_VERSION');
  });

  it('check: exit code 0 when schema.prisma and the migrations agree', async () => {
    const result = await cli(['check']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no drift');
  });

  it('an unknown command prints the usage and exits 1', async () => {
    const result = await cli(['frobnicate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('usage:');
  });
});

describe('generatePrismaClient', () => {
  it('generates the client without network access or a native schema engine', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'wr-generate-'));
    try {
      // schema.prisma's output is relative to it: ../src/generated/prisma, inside the scratch directory.
      await mkdir(join(scratch, 'prisma'));
      await cp(defaultSchemaPath, join(scratch, 'prisma', 'schema.prisma'));

      await generatePrismaClient({ schemaPath: join(scratch, 'prisma', 'schema.prisma'), env: { PATH: process.env.PATH } });

      expect(await readdir(join(scratch, 'src', 'generated', 'prisma'))).toContain('client.ts');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
