import express, { type Express } from 'express';
import type { DevTokenIssuer } from '../auth/index.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { errorHandler, notFound } from './errors.ts';
import { devTokenRoutes } from './devToken.ts';
import { healthRoutes } from './health.ts';

export interface HttpAppDeps {
  prisma: PrismaClient;
  logger: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Development only (no JWT secret configured): issues tokens to loopback clients. */
  devTokens?: DevTokenIssuer | null;
}

/** The HTTP API as an Express app that does not listen: `npm start` and the tests both mount it. */
export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: deps.bodyLimitBytes }));
  app.use(healthRoutes(deps));
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  if (deps.devTokens) app.use(devTokenRoutes({ devTokens: deps.devTokens, prisma: deps.prisma, logger: deps.logger }));
  app.use((req, _res, next) => next(notFound(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
