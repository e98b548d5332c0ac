import { createHash } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Metrics } from '../metrics.ts';
import { AuthRefusal, refuse } from './errors.ts';
import { isCanonicalUuid } from './ids.ts';

/** Who a verified token speaks for. */
export interface Principal {
  /** `sub`: a `users.user_id`. */
  userId: string;
  /** The claim `admin: true`. */
  isAdmin: boolean;
}

export interface VerifiedToken extends Principal {
  /** The token's `exp`, in milliseconds since the epoch. */
  expiresAt: number;
}

export interface TokenVerifierConfiguration {
  /** The HS256 key; null when the server has none, and then every token is refused. */
  secret: Uint8Array | null;
  issuer?: string;
  audience?: string;
  /** How long a verified token is remembered (reliability plan 3.2; `AUTH_TOKEN_CACHE_TTL_MS`); never beyond its `exp`. */
  cacheTtlMs: number;
  /** Entries kept at most; the oldest is dropped first. */
  maxCacheEntries: number;
  /** Seconds of clock skew tolerated on `exp` and `nbf`, in the cache too. */
  clockToleranceSeconds: number;
  now: () => number;
  metrics?: Metrics;
}

const defaults = {
  maxCacheEntries: 10_000,
  clockToleranceSeconds: 0,
  now: Date.now,
} satisfies Partial<TokenVerifierConfiguration>;

interface CacheEntry {
  verified: VerifiedToken;
  /** The entry is used only while `now < usableUntil`. */
  usableUntil: number;
}

/** When a token verified at `now` stops being served from the cache: the TTL or its expiry, whichever is first. */
export function cacheEntryDeadline(now: number, ttlMs: number, expiresAt: number, clockToleranceSeconds = 0): number {
  return Math.min(now + ttlMs, expiresAt + clockToleranceSeconds * 1000);
}

/** The cache key: a digest, so the cache never holds a usable credential. */
export function tokenCacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The claims this server needs from a token whose signature and registered claims jose accepted. */
export function principalFromClaims(payload: JWTPayload): VerifiedToken {
  if (typeof payload.sub !== 'string' || !isCanonicalUuid(payload.sub)) {
    throw refuse('invalid-token', '"sub" must be a user id (a lower-case UUID)');
  }
  if (typeof payload.exp !== 'number') throw refuse('invalid-token', 'the token has no "exp" claim');
  return { userId: payload.sub, isAdmin: payload.admin === true, expiresAt: payload.exp * 1000 };
}

/** Turns what jose throws into a refusal whose reason says what is wrong, without echoing the token. */
export function refusalForJoseError(error: unknown): AuthRefusal {
  if (error instanceof AuthRefusal) return error;
  if (error instanceof joseErrors.JWTExpired) return refuse('token-expired', 'the token has expired; sign in again');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return refuse('invalid-token', `claim "${error.claim}" is not acceptable (${error.reason})`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return refuse('invalid-token', 'bad signature');
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return refuse('invalid-token', 'only HS256 tokens are accepted');
  if (error instanceof joseErrors.JOSEError) return refuse('invalid-token', `malformed token (${error.code})`);
  return refuse('invalid-token', 'the token could not be verified', { cause: error });
}

/**
 * Verifies HS256 JWTs and remembers the ones it accepted for a short time, keyed by a SHA-256 of
 * the whole token. A cache entry dies at the TTL or at the token's `exp`, whichever comes first, so
 * an expired token is never accepted from the cache. Only verification is cached: who the user is
 * and what they may open is looked up again on every connection, so deleting a user or removing a
 * collaborator takes effect at the next connection, not after the TTL.
 */
export class TokenVerifier {
  private readonly configuration: TokenVerifierConfiguration;
  private readonly cache = new Map<string, CacheEntry>();
  /** Verifications in flight, so simultaneous connections with one new token verify it once. */
  private readonly inFlight = new Map<string, Promise<VerifiedToken>>();
  private counters = { verifications: 0, cacheHits: 0 };

  constructor(configuration: Partial<TokenVerifierConfiguration> & Pick<TokenVerifierConfiguration, 'secret' | 'cacheTtlMs'>) {
    this.configuration = { ...defaults, ...configuration };
  }

  /** Resolves to the token's principal or rejects with an `AuthRefusal`. */
  async verify(token: string): Promise<VerifiedToken> {
    const { now, cacheTtlMs, clockToleranceSeconds, metrics } = this.configuration;
    if (typeof token !== 'string' || token.length === 0) throw refuse('invalid-token', 'no token was sent');
    const key = tokenCacheKey(token);
    const cached = this.cache.get(key);
    if (cached) {
      if (now() < cached.usableUntil) {
        this.counters.cacheHits += 1;
        metrics?.authTokenCacheHits.inc();
        return cached.verified;
      }
      this.cache.delete(key);
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;

    const verification = this.verifyWithJose(token)
      .then((verified) => {
        // Computed when the verification ends, so a slow verification cannot stretch the TTL.
        const usableUntil = cacheEntryDeadline(now(), cacheTtlMs, verified.expiresAt, clockToleranceSeconds);
        if (usableUntil > now()) this.remember(key, { verified, usableUntil });
        return verified;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, verification);
    return verification;
  }

  /** Counts since start: tests use them to show that a cache hit costs no verification. */
  stats(): { verifications: number; cacheHits: number; cacheSize: number } {
    return { ...this.counters, cacheSize: this.cache.size };
  }

  /** Drops every remembered token (for example after rotating the secret). */
  clear(): void {
    this.cache.clear();
  }

  private async verifyWithJose(token: string): Promise<VerifiedToken> {
    const { secret, issuer, audience, clockToleranceSeconds, now, metrics } = this.configuration;
    if (!secret) throw refuse('invalid-token', 'the server has no AUTH_JWT_SECRET configured, so it accepts no token');
    this.counters.verifications += 1;
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer,
        audience,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: clockToleranceSeconds,
        currentDate: new Date(now()),
      });
      const verified = principalFromClaims(payload);
      metrics?.authTokenVerifications.inc({ result: 'valid' });
      return verified;
    } catch (error) {
      const refusal = refusalForJoseError(error);
      metrics?.authTokenVerifications.inc({ result: refusal.code === 'token-expired' ? 'expired' : 'invalid' });
      throw refusal;
    }
  }

  private remember(key: string, entry: CacheEntry): void {
    const { maxCacheEntries, now } = this.configuration;
    if (this.cache.size >= maxCacheEntries) {
      // Expired entries first; if none, the oldest insertion (a Map iterates in insertion order).
      const time = now();
      for (const [oldKey, old] of this.cache) if (old.usableUntil <= time) this.cache.delete(oldKey);
      while (this.cache.size >= maxCacheEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(key, entry);
  }
}

export interface SignTokenOptions {
  secret: Uint8Array;
  userId: string;
  admin?: boolean;
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
  now?: () => number;
}

/** Signs an HS256 access token of the shape this server accepts (dev tokens, tests, tools). */
export async function signAccessToken(options: SignTokenOptions): Promise<{ token: string; expiresAt: number }> {
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  const exp = nowSeconds + (options.ttlSeconds ?? 3600);
  let jwt = new SignJWT(options.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.userId)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(exp);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return { token: await jwt.sign(options.secret), expiresAt: exp * 1000 };
}

/** The HS256 key for a configured secret string. */
export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}
