// The shape every command-line job has, so that `jobs/cli.ts` can run any of them the same way
// (parse, open the database, run one pass, map the outcome to an exit code). A job is registered
// in `jobs/registry.ts`; its one-pass function is exported for tests and for the scheduler.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import type { Logger } from '../src/logger.ts';

/** Exit codes shared by every job. */
export const EXIT = {
  OK: 0,
  /** The job ran and something failed (a scene did not migrate, a clear was refused...). */
  FAILED: 1,
  /** Bad arguments: malformed or unknown id, unknown flag, missing argument. Nothing was changed. */
  USAGE: 2,
} as const;

/** Output of a job: results on stdout (parseable with `--json`), progress and warnings on stderr. */
export interface JobOutput {
  result(line: string): void;
  progress(line: string): void;
}

export interface CommandContext {
  database: Database;
  config: Config;
  logger: Logger;
  output: JobOutput;
  now(): Date;
}

export interface JobCommand<Args> {
  name: string;
  /** One line for the list of jobs. */
  summary: string;
  /** Options and arguments, printed by `--help`. */
  usage: string;
  /** Throws `UsageError` for anything the arguments alone show to be wrong; touches no database. */
  parse(argv: readonly string[]): Args;
  /** Runs one pass and returns the exit code. May throw `UnknownTargetError` (exit 2). */
  run(args: Args, context: CommandContext): Promise<number>;
}

/**
 * Type-erased, for the registry: each command's `Args` only ever flows from its own `parse` to its
 * own `run`, so the registry need not know it (`unknown` would make `run` uncallable).
 */
export type AnyJobCommand = JobCommand<any>;

export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Asked for `--help`: not an error, but the job does not run. */
export class HelpRequested extends Error {
  readonly code = 'HELP';
  constructor() {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedJobArgs {
  /** Flags by their long name: a string for `type: 'string'` options, true for boolean ones. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * `node:util` parseArgs in strict mode, with its errors turned into one-line `UsageError`s and
 * `--help` handled for every job.
 */
export function parseJobArgs(argv: readonly string[], options: OptionSpec, positionals: { min: number; max: number; names: string }): ParsedJobArgs {
  let parsed: ParsedJobArgs;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true }) as ParsedJobArgs;
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
  if (parsed.values.help) throw new HelpRequested();
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`missing argument: ${positionals.names}`);
  if (count > positionals.max) throw new UsageError(`unexpected argument: ${parsed.positionals[positionals.max]}`);
  return parsed;
}

function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-[^']*)'/.exec(message ?? '')?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option && /argument missing/.test(message ?? '') ? `option ${option.split(/[ ,]/)[0]} needs a value` : firstLine(message);
    default:
      return firstLine(message);
  }
}

function firstLine(message: string | undefined): string {
  return (message ?? 'invalid arguments').split('\n')[0]!;
}

// Any case is accepted on the command line (people paste ids from many places); the database
// compares uuids by value, and the canonical lower-case form is what gets printed.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id in canonical lower case, or a `UsageError` naming the argument. */
export function parseUuid(value: string, what: string): string {
  if (!UUID.test(value)) throw new UsageError(`${what} must be a UUID, got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`);
  return value.toLowerCase();
}
