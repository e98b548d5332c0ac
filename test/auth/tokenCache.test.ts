import { describe, expect, it } from 'vitest';
import { secretKey, signAccessToken, TokenVerifier } from '../../src/auth/tokens.ts';
import { createMetrics } from '../../src/metrics.ts';

const secret = secretKey('k'.repeat(40));
const USER = '00000000-0000-4000-8000-00000000000a';

/** A clock the test moves by hand, shared by the signer and the verifier. */
function manualClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

describe('token verification cache', () => {
  it('a cache hit costs no verification', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 60_000, metrics });
    const { token } = await signAccessToken({ secret, userId: USER });
    for (let i = 0; i < 5; i += 1) await verifier.verify(token);
    expect(verifier.stats()).toMatchObject({ verifications: 1, cacheHits: 4 });
    expect((await metrics.authTokenCacheHits.get()).values[0]?.value).toBe(4);
  });

  it('simultaneous first uses of one token verify it once', async () => {
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 60_000 });
    const { token } = await signAccessToken({ secret, userId: USER });
    await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
    expect(verifier.stats().verifications).toBe(1);
  });

  it('verifies again once the TTL has passed', async () => {
    const clock = manualClock();
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 1000, now: clock.now });
    const { token } = await signAccessToken({ secret, userId: USER, ttlSeconds: 3600, now: clock.now });
    await verifier.verify(token);
    clock.advance(999);
    await verifier.verify(token);
    expect(verifier.stats().verifications).toBe(1);
    clock.advance(1);
    await verifier.verify(token);
    expect(verifier.stats().verifications).toBe(2);
  });

  it('never accepts an expired token from the cache, however long the TTL', async () => {
    const clock = manualClock();
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 3_600_000, now: clock.now });
    const { token, expiresAt } = await signAccessToken({ secret, userId: USER, ttlSeconds: 5, now: clock.now });
    await verifier.verify(token);
    clock.advance(expiresAt - clock.now() - 1);
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: USER });
    expect(verifier.stats()).toMatchObject({ verifications: 1, cacheHits: 1 });
    clock.advance(1);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'token-expired' });
    // The refusal came from a real verification, not from the cache.
    expect(verifier.stats().verifications).toBe(2);
  });

  it('keys the cache by the whole token: another token with the same signature is verified', async () => {
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 60_000 });
    const { token } = await signAccessToken({ secret, userId: USER });
    await verifier.verify(token);
    const [header, , signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: USER, admin: true, exp: 4_000_000_000 })).toString('base64url');
    await expect(verifier.verify(`${header}.${forgedPayload}.${signature}`)).rejects.toMatchObject({ code: 'invalid-token' });
    expect(verifier.stats().verifications).toBe(2);
  });

  it('does not remember refused tokens', async () => {
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 60_000 });
    for (let i = 0; i < 3; i += 1) await verifier.verify('a.b.c').catch(() => undefined);
    expect(verifier.stats()).toMatchObject({ verifications: 3, cacheHits: 0, cacheSize: 0 });
  });

  it('holds at most maxCacheEntries tokens', async () => {
    const verifier = new TokenVerifier({ secret, cacheTtlMs: 60_000, maxCacheEntries: 3 });
    const tokens = await Promise.all(
      Array.from({ length: 5 }, (_, i) => signAccessToken({ secret, userId: USER, ttlSeconds: 100 + i }).then((t) => t.token)),
    );
    for (const token of tokens) await verifier.verify(token);
    expect(verifier.stats().cacheSize).toBe(3);
    // The oldest was dropped: using it again costs a verification; the newest is still a hit.
    await verifier.verify(tokens[4]!);
    expect(verifier.stats().verifications).toBe(5);
    await verifier.verify(tokens[0]!);
    expect(verifier.stats().verifications).toBe(6);
  });
});
