/**
 * `npm run worker`: the jobs worker role (jobs/workerRole.ts). Validates the configuration, opens
 * and migrates the database, runs the scheduled jobs until SIGTERM/SIGINT, then lets running passes
 * finish their scene and exits. No WebSocket, no HTTP.
 */
import { ConfigError, loadConfig } from '../src/config.ts';
import { createDatabase, migrateDatabase } from '../src/db/client.ts';
import { DatabaseError } from '../src/db/errors.ts';
import { createLogger } from '../src/logger.ts';
import { startJobsWorker } from './workerRole.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name: 'writersroom-worker' });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  let database;
  try {
    database = await createDatabase({ databaseUrl: config.database.url, dataDir: config.database.dataDir, poolSize: config.database.poolSize, logger });
    // Migrations take an advisory lock, so a worker and the servers may start in any order.
    await migrateDatabase(database, { logger });
  } catch (error) {
    if (error instanceof DatabaseError) {
      logger.fatal({ code: error.code }, error.message);
      process.stderr.write(`writersroom-worker: cannot start: ${error.message}\n`);
      await database?.close().catch(() => undefined);
      process.exit(1);
    }
    throw error;
  }
  if (database.kind === 'pglite') {
    logger.warn('the jobs worker runs on PGlite, whose data directory belongs to one process: no server can use it meanwhile');
  }

  const worker = await startJobsWorker({ config, prisma: database.prisma, sql: database.sql, logger, databaseFlavour: database.kind });
  logger.info({ database: database.description, threads: config.workers.threads }, 'writersroom jobs worker is running');
  // The scheduler's timers do not keep a process alive (a one-shot command must be able to exit);
  // this role has nothing else that would, so it holds the process until it is told to stop.
  const keepAlive = setInterval(() => {}, 60_000);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: letting running passes finish their scene');
    const forced = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    try {
      clearInterval(keepAlive);
      await worker.stop();
      await database.close();
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

main().catch((error: unknown) => {
  process.stderr.write(`writersroom-worker: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
