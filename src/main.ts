/**
 * `npm start`: one process serving the WebSocket collaboration server and the HTTP API.
 * Validates the configuration, opens and migrates the database, starts both servers, and shuts
 * down gracefully on SIGTERM/SIGINT (every queued update is committed before the process exits).
 */
import { startApp } from './server/app.ts';
import { demoEnabled, seedDemoData } from './demo/seed.ts';
import { createLogger } from './logger.ts';
import { exitOnStartFailure, loadConfigOrExit, openMigratedDatabase, stopOnSignals } from './processLifecycle.ts';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel });

  // A rejected promise nobody awaited is a bug, but it must not take every editor's session down.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  const database = await openMigratedDatabase(config, logger, 'writersroom-collab');

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

  stopOnSignals({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    message: 'shutting down: closing connections and committing queued updates',
    stop: async () => {
      await app.stop();
      await database.close();
    },
  });
}

main().catch(exitOnStartFailure('writersroom-collab'));
