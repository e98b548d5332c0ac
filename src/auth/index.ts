import type { Config } from '../config.ts';
import type { SqlExecutor } from '../db/sql.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { AccessControl } from './access.ts';
import { DevTokenIssuer } from './devTokens.ts';
import { secretKey, TokenVerifier } from './tokens.ts';

export { AccessControl, decideAccess, type AccessDecision, type AccessFacts, type AccessGrant, type SceneAccess, type ScriptAccess, type ScriptRole } from './access.ts';
export { DevTokenIssuer, devTokenRequestProblem, isLoopbackAddress } from './devTokens.ts';
export { decideEditorVersion, SCHEMA_VERSION_PARAMETER } from './editorVersion.ts';
export { AuthRefusal, refuse } from './errors.ts';
export { isCanonicalUuid } from './ids.ts';
export { secretKey, signAccessToken, TokenVerifier, type Principal, type VerifiedToken } from './tokens.ts';

/** Everything that decides who may do what; one instance per server, shared by WebSocket and HTTP. */
export interface AuthServices {
  verifier: TokenVerifier;
  access: AccessControl;
  /** Present only in development without a secret (`config.auth.devTokens`). */
  devTokens: DevTokenIssuer | null;
}

export interface AuthServicesDeps {
  config: Config;
  prisma: PrismaClient;
  /** The access lookups' prepared statements (the same database as `prisma`). */
  sql: SqlExecutor;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Builds the auth services from the configuration. Without AUTH_JWT_SECRET in development the
 * server makes a random key and issues tokens itself, and says so loudly; the configuration has
 * already refused to start in production without a secret.
 */
export function createAuthServices(deps: AuthServicesDeps): AuthServices {
  const { config, prisma, sql, logger, metrics } = deps;
  const { jwtSecret, issuer, audience, tokenCacheTtlMs } = config.auth;
  const devTokens = config.auth.devTokens ? new DevTokenIssuer({ issuer, audience, ttlSeconds: config.auth.devTokenTtlSeconds }) : null;
  const secret = jwtSecret ? secretKey(jwtSecret) : (devTokens?.secret ?? null);
  if (devTokens) {
    logger.warn(
      { route: 'POST /api/dev/token', nodeEnv: config.nodeEnv },
      'DEVELOPMENT TOKENS ENABLED: no AUTH_JWT_SECRET is set, so this server signs its own tokens with a random key ' +
        'and issues them to loopback clients at POST /api/dev/token. Never run like this where others can reach it; ' +
        'set AUTH_JWT_SECRET (or AUTH_DEV_TOKENS=false) to turn this off.',
    );
  } else if (!secret) {
    logger.warn('no AUTH_JWT_SECRET and dev tokens are off: every connection will be refused');
  }
  return {
    verifier: new TokenVerifier({ secret, issuer, audience, cacheTtlMs: tokenCacheTtlMs, metrics }),
    access: new AccessControl({ prisma, sql, logger: logger.child({ component: 'access' }) }),
    devTokens,
  };
}
