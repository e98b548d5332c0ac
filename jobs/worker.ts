/**
 * `npm run worker`: the jobs worker role (jobs/workerRole.ts). Validates the configuration, opens
 * and migrates the database, runs the scheduled jobs until SIGTERM/SIGINT, then lets running passes
 * finish their scene and exits. No WebSocket, no HTTP.
 */
import { createLogger } from '../src/logger.ts';
import { preflight } from '../src/preflight.ts';
import { exitOnStartFailure, loadConfigOrExit, openMigratedDatabase, stopOnSignals } from '../src/processLifecycle.ts';
import { startJobsWorker } from './workerRole.ts';

async function main(): Promise<void> {
  preflight('writersroom-worker');
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'writersroom-worker' });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  const database = await openMigratedDatabase(config, logger, 'writersroom-worker');
  if (database.kind === 'pglite') {
    logger.warn('the jobs worker runs on PGlite, whose data directory belongs to one process: no server can use it meanwhile');
  }

  const worker = await startJobsWorker({ config, prisma: database.prisma, sql: database.sql, logger, databaseFlavour: database.kind });
  logger.info({ database: database.description, threads: config.workers.threads }, 'writersroom jobs worker is running');
  // The scheduler's timers do not keep a process alive (a one-shot command must be able to exit);
  // this role has nothing else that would, so it holds the process until it is told to stop.
  const keepAlive = setInterval(() => {}, 60_000);

  stopOnSignals({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    message: 'shutting down: letting running passes finish their scene',
    stop: async () => {
      clearInterval(keepAlive);
      await worker.stop();
      await database.close();
    },
  });
}

main().catch(exitOnStartFailure('writersroom-worker'));
