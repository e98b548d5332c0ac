import { afterAll, beforeAll } from 'vitest';
import { startApp, type RunningApp } from '../../src/server/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, silentLogger, type Logger } from '../../src/logger.ts';
import { TEST_AUTH_ENV } from './auth.ts';
import { describeEachDatabase, type EachDatabaseOptions, type TestDatabase, type TestDatabaseKind } from './db.ts';

/** A configuration for an in-process server on free ports with the test JWT secret; `env` overrides any variable. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    ...TEST_AUTH_ENV,
    ...env,
  });
}

/** The server's logger: silent, unless `TEST_LOG` asks to see what a failing test's server did. */
function testLogger(): Logger {
  return process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger();
}

/** Starts the real server (WebSocket and HTTP) on ports chosen by the OS. */
export async function startTestServer(db: TestDatabase, env: Record<string, string> = {}): Promise<RunningApp> {
  return startApp({ config: testConfig(env), prisma: db.prisma, sql: db.database.sql, logger: testLogger() });
}

/** What a suite of `describeEachServer` hands its tests; each getter works inside tests and hooks only. */
export interface ServerSuite {
  /** The suite's own database. */
  db: () => TestDatabase;
  /** The running server; its `wsUrl` and `httpUrl` are the URLs to connect to. */
  app: () => RunningApp;
  /**
   * Stops the server and starts a new one on the same database and environment (a deploy or a
   * crash-free restart); `app()` then returns the new one, and the suite stops that one at the end.
   */
  restart: () => Promise<RunningApp>;
}

export interface EachServerOptions extends EachDatabaseOptions {
  /** The server's environment on top of `testConfig`'s, the same for every kind or chosen per kind. */
  env?: Record<string, string> | ((kind: TestDatabaseKind) => Record<string, string>);
}

/**
 * Runs the suite `fn` once per database kind (as `describeEachDatabase`), each against its own
 * fresh database and its own real server on port 0, both started before the suite and removed
 * after it, the server first so that its last commits reach the database. Hooks that `fn`
 * registers run after the server has started and before it stops.
 *
 *   describeEachServer('HTTP scenes API', ({ db, app }) => {
 *     it('answers', async () => { await fetch(`${app().httpUrl}/api/health/live`); });
 *   });
 */
export function describeEachServer(name: string, fn: (suite: ServerSuite, kind: TestDatabaseKind) => void): void;
export function describeEachServer(name: string, options: EachServerOptions, fn: (suite: ServerSuite, kind: TestDatabaseKind) => void): void;
export function describeEachServer(
  name: string,
  optionsOrFn: EachServerOptions | ((suite: ServerSuite, kind: TestDatabaseKind) => void),
  maybeFn?: (suite: ServerSuite, kind: TestDatabaseKind) => void,
): void {
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn!;
  describeEachDatabase(name, { kinds: options.kinds }, (db, kind) => {
    const env = typeof options.env === 'function' ? options.env(kind) : (options.env ?? {});
    let app: RunningApp | undefined;
    beforeAll(async () => {
      app = await startTestServer(db(), env);
    });
    afterAll(async () => {
      await app?.stop();
    });
    const running = () => {
      if (app === undefined) throw new Error('the test server exists only inside tests and hooks');
      return app;
    };
    fn(
      {
        db,
        app: running,
        restart: async () => {
          await running().stop();
          app = undefined;
          app = await startTestServer(db(), env);
          return app;
        },
      },
      kind,
    );
  });
}
