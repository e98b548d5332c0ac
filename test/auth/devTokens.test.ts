import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthServices, type AuthServices } from '../../src/auth/index.ts';
import { ConfigError } from '../../src/config.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { devTokenRoutes } from '../../src/http/devToken.ts';
import { createMetrics } from '../../src/metrics.ts';
import { silentLogger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createUser } from '../helpers/fixtures.ts';
import { capturingLogger } from '../helpers/logger.ts';
import { testConfig } from '../helpers/server.ts';

describe('development tokens', () => {
  let db: TestDatabase;
  let auth: AuthServices;
  let server: Server;
  let baseUrl: string;
  const logged = capturingLogger('info');

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    // The test configuration carries a secret; a developer's machine has none.
    auth = createAuthServices({ config: testConfig({ AUTH_JWT_SECRET: '' }), prisma: db.prisma, sql: db.database.sql, logger: logged.logger, metrics: createMetrics({ defaultMetrics: false }) });
    const app = express();
    app.use(express.json());
    app.use(devTokenRoutes({ devTokens: auth.devTokens!, prisma: db.prisma, logger: silentLogger() }));
    app.use(errorHandler(silentLogger()));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('are on in development without a secret, and announced loudly at start-up', () => {
    expect(auth.devTokens).not.toBeNull();
    const warning = (logged.entries as Array<{ level: number; msg: string }>).find((line) => line.msg.includes('DEVELOPMENT TOKENS'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('POST /api/dev/token');
  });

  it('are off with a secret, and the configuration refuses production without one', () => {
    expect(testConfig({ AUTH_JWT_SECRET: '' }).auth.devTokens).toBe(true);
    expect(testConfig({ AUTH_JWT_SECRET: 'z'.repeat(40) }).auth.devTokens).toBe(false);
    expect(testConfig({ AUTH_JWT_SECRET: '', AUTH_DEV_TOKENS: 'false' }).auth.devTokens).toBe(false);
    expect(() => testConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: '' })).toThrow(ConfigError);
    expect(() => testConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: '' })).toThrow(/AUTH_JWT_SECRET/);
  });

  it('issues a token by email (creating the user) that this server accepts', async () => {
    const email = `dev-${Date.now()}@example.test`;
    const res = await post({ email, admin: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; userId: string; admin: boolean };
    expect(body.admin).toBe(true);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { email } })).userId).toBe(body.userId);
    await expect(auth.verifier.verify(body.token)).resolves.toMatchObject({ userId: body.userId, isAdmin: true });
  });

  it('issues a token for an existing user id, and 404 for an unknown one', async () => {
    const userId = await createUser(db.prisma);
    const res = await post({ userId });
    expect(res.status).toBe(200);
    await expect(auth.verifier.verify(((await res.json()) as { token: string }).token)).resolves.toMatchObject({ userId, isAdmin: false });
    expect((await post({ userId: '00000000-0000-4000-8000-00000000dead' })).status).toBe(404);
  });

  it.each([
    [{}, 400],
    [{ userId: 'nope' }, 400],
    [{ email: 'a@example.test', userId: '00000000-0000-4000-8000-000000000001' }, 400],
    [{ email: 'a@example.test', role: 'god' }, 400],
  ])('rejects the body %j with %i', async (body, status) => {
    expect((await post(body)).status).toBe(status);
  });

  it('refuses requests through a proxy or for a non-loopback Host', async () => {
    const forwarded = await post({ email: 'p@example.test' }, { 'x-forwarded-for': '203.0.113.9' });
    expect(forwarded.status).toBe(403);
    expect(((await forwarded.json()) as { code: string }).code).toBe('DEV_TOKENS_LOOPBACK_ONLY');
    // A page whose DNS name was rebound to 127.0.0.1 still sends its own Host.
    // (fetch will not send a Host of our choosing; node:http will.)
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(`${baseUrl}/api/dev/token`, { method: 'POST', headers: { host: 'attacker.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ email: 'p@example.test' }));
    });
    expect(rebound).toBe(403);
  });
});
