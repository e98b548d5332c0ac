import { Router } from 'express';
import type { PrismaClient } from '../generated/prisma/client.ts';

const READY_TIMEOUT_MS = 2000;

/** Liveness says the process runs; readiness says it can serve, which needs the database. */
export function healthRoutes(deps: { prisma: PrismaClient }): Router {
  const router = Router();
  router.get('/api/health/live', (_req, res) => {
    res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  });
  router.get('/api/health/ready', async (_req, res) => {
    try {
      await withTimeout(deps.prisma.$queryRaw`SELECT 1`, READY_TIMEOUT_MS);
      res.json({ status: 'ready', database: 'ok' });
    } catch (error) {
      res.status(503).json({
        status: 'unavailable',
        database: 'unreachable',
        error: error instanceof Error ? error.message.split('\n')[0] : String(error),
        code: 'DATABASE_UNAVAILABLE',
      });
    }
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
