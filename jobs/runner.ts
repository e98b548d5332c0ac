// Runs one job from command-line arguments: the part of `jobs/cli.ts` that tests can call in
// process. It prints (this is the command line), maps errors to exit codes, and always closes the
// database it opened.
import { pino, type LevelWithSilent } from 'pino';
import { ConfigError, loadConfig, type Config } from '../src/config.ts';
import { ContentError } from '../src/restCopy/errors.ts';
import type { Database } from '../src/db/client.ts';
import { DatabaseError } from '../src/db/errors.ts';
import type { Logger } from '../src/logger.ts';
import { EXIT, HelpRequested, UsageError, type JobOutput } from './command.ts';
import { findJobCommand, JOB_COMMANDS } from './registry.ts';

export interface JobRunnerIO {
  env: NodeJS.ProcessEnv;
  stdout(line: string): void;
  stderr(line: string): void;
  now?: () => Date;
  /** The structured log (stderr by default); progress is printed separately. */
  logger?: (config: Config) => Logger;
}

export function jobsUsage(): string {
  const width = Math.max(...JOB_COMMANDS.map((c) => c.name.length));
  return [
    'usage: npm run job -- <job> [options]     (npm run job -- <job> --help for its options)',
    '',
    'jobs:',
    ...JOB_COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'The database comes from the environment: DATABASE_URL (PostgreSQL), else PGlite under DATA_DIR',
    '(./data; stop the server first, PGlite allows one process). Exit codes: 0 ok, 1 failed, 2 bad arguments.',
  ].join('\n');
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}

/** The log level for a job: `info` would interleave JSON with the progress lines, so it is raised to `warn`. */
function jobLogLevel(config: Config): LevelWithSilent {
  return config.logLevel === 'info' ? 'warn' : config.logLevel;
}

export async function runJobCli(argv: readonly string[], io: JobRunnerIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(jobsUsage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = findJobCommand(name);
  if (!command) {
    io.stderr(`job: unknown job '${name}' (one of: ${JOB_COMMANDS.map((c) => c.name).join(', ')})`);
    return EXIT.USAGE;
  }

  let args: unknown;
  try {
    args = command.parse(rest);
  } catch (error) {
    if (error instanceof HelpRequested) {
      io.stdout(command.usage);
      return EXIT.OK;
    }
    if (error instanceof UsageError) {
      io.stderr(`${command.name}: ${error.message} (see --help)`);
      return EXIT.USAGE;
    }
    throw error;
  }

  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${command.name}: invalid configuration: ${error.problems.join('; ')}`);
    return EXIT.USAGE;
  }
  const logger = io.logger?.(config) ?? pino({ name: 'writersroom-job', level: jobLogLevel(config) }, pino.destination({ dest: 2, sync: true }));

  let database: Database;
  try {
    // Loaded only now: `--help` and argument errors answer without loading Prisma Client.
    const { createDatabase } = await import('../src/db/client.ts');
    // Jobs run one statement at a time; a small pool leaves connections to the servers.
    database = await createDatabase({ databaseUrl: config.database.url, dataDir: config.database.dataDir, poolSize: 2, logger });
  } catch (error) {
    if (!(error instanceof DatabaseError)) throw error;
    io.stderr(`${command.name}: ${oneLine(error)}`);
    return EXIT.FAILED;
  }

  const output: JobOutput = { result: io.stdout, progress: io.stderr };
  try {
    return await command.run(args, { database, config, logger, output, now: io.now ?? (() => new Date()) });
  } catch (error) {
    if (error instanceof UsageError || (error instanceof ContentError && error.code === 'UNKNOWN_TARGET')) {
      io.stderr(`${command.name}: ${error.message}`);
      return EXIT.USAGE;
    }
    logger.error({ err: error, job: command.name }, 'job failed');
    io.stderr(`${command.name}: failed: ${oneLine(error)}`);
    return EXIT.FAILED;
  } finally {
    await database.close();
  }
}
