/**
 * Database command line: `tsx src/db/cli.ts <command>`.
 *
 *   migrate         apply pending migrations to DATABASE_URL, or to PGlite under DATA_DIR (./data)
 *   create <name>   write the next migration from the difference between schema.prisma and the migrations
 *   check           exit 1 and print the SQL when schema.prisma and the migrations disagree (drift)
 *   status          the database's migration history compared with prisma/migrations, plus drift
 *   generate        prisma generate, offline (also run by npm's postinstall)
 *
 * An entry point: it prints; the configuration (DATABASE_URL, DATA_DIR, LOG_LEVEL) comes from
 * src/config.ts, and the functions it calls take plain options.
 */
import { relative } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { Database } from './client.ts';
import { DatabaseError } from './errors.ts';
import { generatePrismaClient } from './generate.ts';
import { defaultMigrationsDir } from './migrationFiles.ts';
import { createMigration, diffMigrationsToSchema, migrationStatus } from './migrator.ts';

const USAGE = 'usage: tsx src/db/cli.ts migrate | create <name> | check | status | generate';

function cliLogger(config: Config): Logger {
  // Progress is printed by the CLI itself; the log carries only warnings unless asked for more
  // (`info` is the configuration's default, so it is read as "not asked").
  return createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
}

/**
 * client.ts imports the generated Prisma Client, which does not exist yet when `generate` runs
 * on a fresh clone (npm's postinstall): it is loaded only by the commands that need it.
 */
function loadClientModule(): Promise<typeof import('./client.ts')> {
  return import('./client.ts');
}

async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Database> {
  const { createDatabase } = await loadClientModule();
  return createDatabase({ databaseUrl: config.database.url, dataDir: config.database.dataDir, poolSize: 1, logger });
}

async function withConfiguredDatabase<T>(config: Config, logger: Logger, fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase(config, logger);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

function displayPath(path: string): string {
  return relative(process.cwd(), path) || '.';
}

async function migrate(config: Config, logger: Logger): Promise<number> {
  return withConfiguredDatabase(config, logger, async (database) => {
    console.log(`migrating ${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} ${database.description}`);
    const { migrateDatabase } = await loadClientModule();
    const { appliedMigrationNames } = await migrateDatabase(database, { logger });
    for (const name of appliedMigrationNames) console.log(`applied ${name}`);
    console.log(
      appliedMigrationNames.length === 0
        ? 'no pending migrations: the database is up to date'
        : `${appliedMigrationNames.length} migration(s) applied`,
    );
    return 0;
  });
}

async function create(logger: Logger, name: string | undefined): Promise<number> {
  if (name === undefined || name.trim() === '') {
    console.error('error: create needs a migration name, e.g. `npm run db:migration:create -- add_scene_tags`');
    return 1;
  }
  const result = await createMigration({ name, logger });
  if (!result.created) {
    console.log('no changes: schema.prisma and prisma/migrations agree, no migration written');
    return 0;
  }
  console.log(`created ${displayPath(result.scriptPath)}`);
  console.log('review it before applying; add what Prisma cannot express (e.g. CHECK constraints) below its SQL');
  return 0;
}

async function check(logger: Logger): Promise<number> {
  const drift = await diffMigrationsToSchema({ logger });
  if (drift === '') {
    console.log(`no drift: schema.prisma and ${displayPath(defaultMigrationsDir)} agree`);
    return 0;
  }
  console.log(`drift: ${displayPath(defaultMigrationsDir)} lacks these changes of schema.prisma:\n`);
  console.log(drift.trimEnd());
  console.log('\nrun `npm run db:migration:create -- <name>` to write them as a migration');
  return 1;
}

async function status(config: Config, logger: Logger): Promise<number> {
  const history = await withConfiguredDatabase(config, logger, async (database) => {
    console.log(`database: ${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} ${database.description}`);
    return migrationStatus({ target: database.migrationTarget, logger });
  });
  const lines = [
    ...history.pendingMigrationNames.map((name) => `pending:   ${name}`),
    ...history.failedMigrationNames.map((name) => `failed:    ${name}`),
    ...history.editedMigrationNames.map((name) => `edited:    ${name} (changed after it was applied)`),
    ...history.unknownMigrationNames.map((name) => `unknown:   ${name} (applied, not in prisma/migrations)`),
  ];
  for (const line of lines) console.log(line);
  if (lines.length === 0) console.log('migrations: the database is up to date');
  const driftExit = await check(logger);
  return lines.length === 0 && driftExit === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Needs no configuration: npm's postinstall runs it on a fresh clone, whatever the environment.
  if (command === 'generate') {
    await generatePrismaClient();
    return 0;
  }
  if (command !== 'migrate' && command !== 'create' && command !== 'check' && command !== 'status') {
    console.error(USAGE);
    return 1;
  }
  const config = loadConfig();
  const logger = cliLogger(config);
  switch (command) {
    case 'migrate':
      return migrate(config, logger);
    case 'create':
      return create(logger, rest.join(' '));
    case 'check':
      return check(logger);
    case 'status':
      return status(config, logger);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Expected failures (bad URL, server down, failed migration) get one line; anything else is a
  // bug and keeps its stack.
  if (error instanceof ConfigError) {
    console.error(`error: invalid configuration: ${error.problems.join('; ')}`);
  } else if (error instanceof DatabaseError) {
    console.error(`error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
}
