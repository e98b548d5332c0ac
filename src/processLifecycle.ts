/**
 * What every long-running entry point (`npm start`, `npm run worker`) does around its own work:
 * read the configuration or exit 2 with every problem, open and migrate the database or exit 1
 * with the reason, and stop gracefully on SIGTERM/SIGINT within `SHUTDOWN_TIMEOUT_MS`.
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import type { Database } from './db/client.ts';
import { DatabaseError } from './db/errors.ts';
import type { Logger } from './logger.ts';

/** The validated configuration; on a ConfigError the process exits 2 after printing every problem. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/**
 * Opens and migrates the database (migrations take an advisory lock, so servers and workers may
 * start in any order); on a DatabaseError the process exits 1 with the reason, `name` first.
 */
export async function openMigratedDatabase(config: Config, logger: Logger, name: string): Promise<Database> {
  let database: Database | undefined;
  try {
    // Loaded here, not with this module: `npm start` binds its ports before it loads the database
    // layer (Prisma Client, the drivers), so a restart is reachable sooner (src/main.ts).
    const { createDatabase, migrateDatabase } = await import('./db/client.ts');
    database = await createDatabase({
      databaseUrl: config.database.url,
      dataDir: config.database.dataDir,
      poolSize: config.database.poolSize,
      logger,
    });
    await migrateDatabase(database, { logger });
    return database;
  } catch (error) {
    if (error instanceof DatabaseError) {
      logger.fatal({ code: error.code }, error.message);
      process.stderr.write(`${name}: cannot start: ${error.message}\n`);
      await database?.close().catch(() => undefined);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * On the first SIGTERM or SIGINT: logs `message`, runs `stop`, exits 0; exits 1 when `stop` throws
 * or takes longer than `timeoutMs`.
 */
export function stopOnSignals(options: { logger: Logger; timeoutMs: number; message: string; stop: () => Promise<void> }): void {
  const { logger, timeoutMs, message, stop } = options;
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, message);
    const forced = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    forced.unref();
    try {
      await stop();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** For `main().catch(...)`: a start-up failure nobody anticipated, with its stack, exit 1. */
export function exitOnStartFailure(name: string): (error: unknown) => never {
  return (error) => {
    process.stderr.write(`${name}: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  };
}
