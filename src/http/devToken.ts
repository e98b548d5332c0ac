import { Router } from 'express';
import { z } from 'zod';
import { devTokenRequestProblem, type DevTokenIssuer } from '../auth/devTokens.ts';
import { isCanonicalUuid } from '../auth/ids.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { badRequest, forbidden, notFound } from './errors.ts';

const body = z
  .object({
    userId: z.string().refine(isCanonicalUuid, 'userId must be a lower-case UUID').optional(),
    email: z.email().optional(),
    admin: z.boolean().optional(),
  })
  .strict()
  .refine((value) => (value.userId === undefined) !== (value.email === undefined), { message: 'send exactly one of userId and email' });

/**
 * `POST /api/dev/token` `{userId} | {email}, admin?` -> `{token, userId, expiresAt}`: a token for
 * local development, mounted only when `auth.devTokens` exists (development, no AUTH_JWT_SECRET).
 * `email` finds the user or creates one, so a fresh database can be used at once. Loopback peers
 * only, with a loopback Host and no proxy headers.
 */
export function devTokenRoutes(deps: { devTokens: DevTokenIssuer; prisma: PrismaClient; logger: Logger }): Router {
  const router = Router();
  router.post('/api/dev/token', async (req, res) => {
    const problem = devTokenRequestProblem({
      remoteAddress: req.socket.remoteAddress,
      host: req.headers.host,
      forwarded: req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined,
    });
    if (problem) throw forbidden(problem, 'DEV_TOKENS_LOOPBACK_ONLY');
    const parsed = body.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(parsed.error.issues.map((issue) => issue.message).join('; '));
    const { userId, email, admin } = parsed.data;
    let user: { userId: string } | null;
    if (userId) {
      user = await deps.prisma.user.findUnique({ where: { userId }, select: { userId: true } });
      if (!user) throw notFound(`No user ${userId}`, 'UNKNOWN_USER');
    } else {
      user = await deps.prisma.user.upsert({ where: { email: email! }, create: { email: email! }, update: {}, select: { userId: true } });
    }
    const issued = await deps.devTokens.issue({ userId: user.userId, admin });
    deps.logger.warn({ userId: user.userId, admin: admin === true }, 'development token issued');
    res.json({ token: issued.token, userId: user.userId, admin: admin === true, expiresAt: new Date(issued.expiresAt).toISOString() });
  });
  return router;
}
