/**
 * `npm start`: one process serving the WebSocket collaboration server and the HTTP API.
 * Checks the Node version and reads `.env` (src/preflight.ts), validates the configuration, binds
 * both ports, opens and migrates the database, starts both servers, and shuts down gracefully on
 * SIGTERM/SIGINT (every queued update is committed before the process exits).
 */
import { enableCompileCache } from 'node:module';
import { preflight } from './preflight.ts';

preflight('writersroom-collab');
// V8's compiled code of the server's modules, kept on disk (in the system's temporary directory)
// from one start to the next: a restart loads the server about a tenth faster. Without a writable
// directory it is simply off.
enableCompileCache();
// Loaded only after the preflight: on a Node that is too old these modules could fail to link
// before any check of ours ran, and the configuration must see .env.
const { exitOnStartFailure, loadConfigOrExit, openMigratedDatabase, stopOnSignals } = await import('./processLifecycle.ts');
const { holdAppPorts, PortInUseError } = await import('./server/heldPorts.ts');

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Before the rest of the server is loaded (half a second from the build, about a second under
  // tsx): from here on a restart takes the editors' reconnections and holds them until it can
  // answer (src/server/heldPorts.ts).
  const ports = await holdAppPorts(config).catch((error: unknown) => {
    if (!(error instanceof PortInUseError)) throw error;
    process.stderr.write(`writersroom-collab: cannot start: ${error.message}\n`);
    process.exit(1);
  });

  const { startApp } = await import('./server/app.ts');
  const { demoEnabled, seedDemoData } = await import('./demo/seed.ts');
  const { createLogger, startupLine } = await import('./logger.ts');
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });

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

  const app = await startApp({ config, prisma: database.prisma, sql: database.sql, logger, ports });
  logger.info(
    {
      ws: app.wsUrl,
      http: app.httpUrl,
      collab: app.collabUrl,
      publicWs: config.publicUrls.ws,
      publicHttp: config.publicUrls.http,
      database: database.description,
      redis: config.redis.url ? 'on' : 'off',
    },
    'writersroom-collab is listening',
  );
  // For the person who ran `npm start`: the one line to act on, whatever else the log says.
  logger.info(startupLine({ httpUrl: config.publicUrls.http ?? app.httpUrl, demo: demoEnabled(config) }));

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
