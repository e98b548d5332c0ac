import { startApp, type RunningApp } from '../../src/server/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, silentLogger } from '../../src/logger.ts';
import { TEST_AUTH_ENV } from './auth.ts';
import type { TestDatabase } from './db.ts';

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

/** Starts the real server (WebSocket and HTTP) on ports chosen by the OS. */
export async function startTestServer(db: TestDatabase, env: Record<string, string> = {}): Promise<RunningApp> {
  const config = testConfig(env);
  const logger = process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger();
  return startApp({ config, prisma: db.prisma, sql: db.database.sql, logger });
}
