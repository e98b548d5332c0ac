/**
 * `npm start`: one process serving the WebSocket collaboration server and the HTTP API.
 * Validates the configuration, opens and migrates the database, starts both servers, and shuts
 * down gracefully on SIGTERM/SIGINT (every queued update is committed before the process exits).
 */
import { startApp } from './server/app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createDatabase, migrateDatabase } from './db/client.ts';
import { DatabaseError } from './db/errors.ts';
import { demoEnabled, seedDemoData } from './demo/seed.ts';
import { createLogger } from './logger.ts';

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
  const logger = createLogger({ level: config.logLevel });

  // A rejected promise nobody awaited is a bug, but it must not take every editor's session down.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  let database;
  try {
    database = await createDatabase({
      databaseUrl: config.database.url,
      dataDir: config.database.dataDir,
      poolSize: config.database.poolSize,
      logger,
    });
    await migrateDatabase(database, { logger });
  } catch (error) {
    if (error instanceof DatabaseError) {
      logger.fatal({ code: error.code }, error.message);
      process.stderr.write(`writersroom-collab: cannot start: ${error.message}\n`);
      await database?.close().catch(() => undefined);
      process.exit(1);
    }
    throw error;
  }

  if (demoEnabled(config)) {
    // Development only: a newcomer's `npm start` opens a script with scenes instead of an empty page.
    // The demo is a convenience; failing to seed it must not keep the server from starting.
    await seedDemoData({ prisma: database.prisma, logger }).catch((error: unknown) =>
      logger.error({ err: error }, 'could not seed the demo script'),
    );
  }

  const app = await startApp({ config, prisma: database.prisma, sql: database.sql, logger });
  logger.info(
    { ws: app.wsUrl, http: app.httpUrl, database: database.description, redis: config.redis.url ? 'on' : 'off' },
    'writersroom-collab is listening',
  );

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: closing connections and committing queued updates');
    const forced = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    try {
      await app.stop();
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
  process.stderr.write(`writersroom-collab: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
