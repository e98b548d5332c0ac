import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { decideAccess, type AccessFacts } from '../../src/auth/access.ts';
import { devTokenRequestProblem, DevTokenIssuer, isLoopbackAddress } from '../../src/auth/devTokens.ts';
import { decideEditorVersion } from '../../src/auth/editorVersion.ts';
import { codeOf } from '../../src/collab/closeReasons.ts';
import { isCanonicalUuid } from '../../src/auth/ids.ts';
import { cacheEntryDeadline, secretKey, signAccessToken, TokenVerifier } from '../../src/auth/tokens.ts';
import { accessVerdict, tokenState } from '../../src/auth/tokenLifetime.ts';

const OWNER = '00000000-0000-4000-8000-000000000001';
const ME = '00000000-0000-4000-8000-000000000002';

describe('decideAccess', () => {
  const script = (collaboratorRole: 'editor' | 'viewer' | null, ownerId = OWNER): AccessFacts['script'] => ({ ownerId, collaboratorRole });
  const cases: Array<[string, { isAdmin: boolean; facts: AccessFacts }, string]> = [
    ['unknown user, even for an unknown scene', { isAdmin: false, facts: { userExists: false, script: null } }, 'refused unknown-user'],
    ['unknown user who claims admin', { isAdmin: true, facts: { userExists: false, script: script(null) } }, 'refused unknown-user'],
    ['unknown scene', { isAdmin: false, facts: { userExists: true, script: null } }, 'refused unknown-scene'],
    ['unknown scene for an admin', { isAdmin: true, facts: { userExists: true, script: null } }, 'refused unknown-scene'],
    ['owner', { isAdmin: false, facts: { userExists: true, script: script(null, ME) } }, 'owner write'],
    ['owner who is also admin', { isAdmin: true, facts: { userExists: true, script: script(null, ME) } }, 'owner write'],
    ['editor', { isAdmin: false, facts: { userExists: true, script: script('editor') } }, 'editor write'],
    ['viewer', { isAdmin: false, facts: { userExists: true, script: script('viewer') } }, 'viewer read'],
    ['admin who is only a viewer writes as admin', { isAdmin: true, facts: { userExists: true, script: script('viewer') } }, 'admin write'],
    ['admin with no role', { isAdmin: true, facts: { userExists: true, script: script(null) } }, 'admin write'],
    ['stranger', { isAdmin: false, facts: { userExists: true, script: script(null) } }, 'refused no-access'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    const decision = decideAccess({ userId: ME, isAdmin: input.isAdmin }, { kind: 'scene', id: 'x' }, input.facts);
    const summary = decision.granted
      ? `${decision.grant.role} ${decision.grant.canWrite ? 'write' : 'read'}`
      : `refused ${decision.refusal.code}`;
    expect(summary).toBe(expected);
  });

  it('names the script for a script target', () => {
    const decision = decideAccess({ userId: ME, isAdmin: false }, { kind: 'script', id: 'x' }, { userExists: true, script: null });
    expect(decision.granted ? null : decision.refusal.code).toBe('unknown-script');
  });
});

describe('decideEditorVersion (server at 3)', () => {
  // [sent, under strict, under lenient]: only a missing version differs.
  const cases: Array<[string | null, string, string]> = [
    [null, 'outdated-editor', 'version 3'],
    ['', 'outdated-editor', 'version 3'],
    ['2', 'outdated-editor', 'outdated-editor'],
    ['0', 'outdated-editor', 'outdated-editor'],
    ['3', 'version 3', 'version 3'],
    ['4', 'version 4', 'version 4'],
    ['03', 'version 3', 'version 3'],
    ['3.0', 'outdated-editor', 'outdated-editor'],
    ['-3', 'outdated-editor', 'outdated-editor'],
    ['abc', 'outdated-editor', 'outdated-editor'],
    ['1e9', 'outdated-editor', 'outdated-editor'],
    ['99999999999', 'outdated-editor', 'outdated-editor'],
  ];
  it.each(cases)('%j -> %s (strict), %s (lenient)', (sent, strict, lenient) => {
    const summary = (policy: 'strict' | 'lenient') => {
      const decision = decideEditorVersion(sent, 3, policy);
      return 'refusal' in decision ? decision.refusal.code : `version ${decision.version}`;
    };
    expect([summary('strict'), summary('lenient')]).toEqual([strict, lenient]);
  });

  it('tells the developer of an unversioned client what to send, and an outdated page to reload', () => {
    const reason = (sent: string | null) => {
      const decision = decideEditorVersion(sent, 3, 'strict');
      return 'refusal' in decision ? decision.refusal.reason : null;
    };
    expect(reason(null)).toBe(
      'outdated-editor: the client sent no screenplay schema version: connect with ?schemaVersion=3 in the WebSocket URL (SCREENPLAY_SCHEMA_VERSION from writersroom-collab/screenplay)',
    );
    expect(reason(null)).not.toContain('reload');
    expect(reason('v3')).toContain('?schemaVersion=3');
    expect(reason('2')).toBe('outdated-editor: the editor runs screenplay schema 2, the server 3; reload the page to get the current editor');
  });
});

describe('cacheEntryDeadline', () => {
  const cases: Array<[string, [number, number, number, number], number]> = [
    ['the TTL when the token lives longer', [1000, 60_000, 1_000_000, 0], 61_000],
    ['the expiry when it comes first', [1000, 60_000, 5000, 0], 5000],
    ['an already expired token is never usable', [10_000, 60_000, 5000, 0], 5000],
    ['the clock tolerance extends the expiry', [1000, 60_000, 5000, 2], 7000],
  ];
  it.each(cases)('%s', (_name, [now, ttl, exp, tolerance], expected) => {
    expect(cacheEntryDeadline(now, ttl, exp, tolerance)).toBe(expected);
  });
});

describe('isCanonicalUuid', () => {
  const id = randomUUID();
  it.each([
    [id, true],
    [id.toUpperCase(), false],
    [id.replaceAll('-', ''), false],
    [`{${id}}`, false],
    [`${id} `, false],
    ['', false],
    ['not-a-uuid', false],
  ])('%j -> %s', (value, expected) => expect(isCanonicalUuid(value)).toBe(expected));
});

describe('dev-token request checks', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    [undefined, false],
  ])('%s is loopback: %s', (address, expected) => expect(isLoopbackAddress(address)).toBe(expected));

  it.each([
    [{ remoteAddress: '127.0.0.1', host: '127.0.0.1:3000', forwarded: false }, null],
    [{ remoteAddress: '::1', host: '[::1]:3000', forwarded: false }, null],
    [{ remoteAddress: '127.0.0.1', host: 'localhost:3000', forwarded: false }, null],
    [{ remoteAddress: '192.168.1.5', host: '127.0.0.1:3000', forwarded: false }, 'loopback clients only'],
    [{ remoteAddress: '127.0.0.1', host: '127.0.0.1:3000', forwarded: true }, 'proxy'],
    [{ remoteAddress: '127.0.0.1', host: 'evil.example:3000', forwarded: false }, 'loopback Host'],
    [{ remoteAddress: '127.0.0.1', host: undefined, forwarded: false }, 'loopback Host'],
  ])('%j -> %s', (request, expected) => {
    const problem = devTokenRequestProblem(request);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toContain(expected);
  });
});

describe('token verification refusals (real jose)', () => {
  const secret = secretKey('s'.repeat(40));
  const verifier = (options: { issuer?: string; audience?: string } = {}) => new TokenVerifier({ secret, cacheTtlMs: 60_000, ...options });
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, key = secret, header: Record<string, unknown> = { alg: 'HS256' }) =>
    new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);

  it.each<[string, () => Promise<string>, { issuer?: string; audience?: string }, string]>([
    ['valid', () => sign({ sub: ME, exp: now + 60 }), {}, 'ok'],
    ['bad signature', () => sign({ sub: ME, exp: now + 60 }, secretKey('t'.repeat(40))), {}, 'invalid-token: bad signature'],
    ['expired', () => sign({ sub: ME, exp: now - 10 }), {}, 'token-expired'],
    ['not yet valid', () => sign({ sub: ME, exp: now + 60, nbf: now + 30 }), {}, 'invalid-token'],
    ['no exp', () => sign({ sub: ME }), {}, 'invalid-token'],
    ['no sub', () => sign({ exp: now + 60 }), {}, 'invalid-token'],
    ['sub not a uuid', () => sign({ sub: 'alice', exp: now + 60 }), {}, 'invalid-token'],
    ['wrong issuer', () => sign({ sub: ME, exp: now + 60, iss: 'other' }), { issuer: 'writersroom' }, 'invalid-token: claim "iss"'],
    ['missing issuer', () => sign({ sub: ME, exp: now + 60 }), { issuer: 'writersroom' }, 'invalid-token: claim "iss"'],
    ['wrong audience', () => sign({ sub: ME, exp: now + 60, aud: 'other' }), { audience: 'collab' }, 'invalid-token: claim "aud"'],
    ['alg none', async () => new UnsecuredJWT({ sub: ME, exp: now + 60 }).encode(), {}, 'invalid-token'],
    ['HS512', () => sign({ sub: ME, exp: now + 60 }, secret, { alg: 'HS512' }), {}, 'invalid-token: only HS256'],
    ['garbage', async () => 'not.a.jwt', {}, 'invalid-token'],
    ['empty', async () => '', {}, 'invalid-token'],
  ])('%s', async (_name, make, options, expected) => {
    const token = await make();
    const result = await verifier(options)
      .verify(token)
      .then(() => 'ok', (error: { reason: string }) => error.reason);
    expect(result.startsWith(expected), result).toBe(true);
  });

  it('accepts the tokens it signs, with issuer and audience, and reads the admin claim', async () => {
    const { token } = await signAccessToken({ secret, userId: ME, admin: true, issuer: 'writersroom', audience: 'collab' });
    await expect(verifier({ issuer: 'writersroom', audience: 'collab' }).verify(token)).resolves.toMatchObject({ userId: ME, isAdmin: true });
  });

  it('a server with no secret refuses every token and says why', async () => {
    const { token } = await signAccessToken({ secret, userId: ME });
    const result = await new TokenVerifier({ secret: null, cacheTtlMs: 60_000 }).verify(token).catch((error: { reason: string }) => error.reason);
    expect(codeOf(String(result))).toBe('invalid-token');
    expect(String(result)).toContain('AUTH_JWT_SECRET');
  });

  it('dev tokens verify only against their own process key', async () => {
    const issuer = new DevTokenIssuer({ ttlSeconds: 3600 });
    const { token } = await issuer.issue({ userId: ME });
    await expect(new TokenVerifier({ secret: issuer.secret, cacheTtlMs: 60_000 }).verify(token)).resolves.toMatchObject({ userId: ME, isAdmin: false });
    const other = await new TokenVerifier({ secret: new DevTokenIssuer({ ttlSeconds: 3600 }).secret, cacheTtlMs: 60_000 }).verify(token).catch((error: { reason: string }) => error.reason);
    expect(other).toBe('invalid-token: bad signature');
  });
});

describe('tokenState: an open connection and its token', () => {
  const EXP = 1_000_000;
  const token = (since: number, refreshRequested = false) => ({ expiresAt: EXP, since, refreshRequested });
  it.each<[string, number, ReturnType<typeof token>, number, string]>([
    ['well before the lead', EXP - 120_000, token(EXP - 3_600_000), 60_000, 'valid'],
    ['inside the lead', EXP - 59_000, token(EXP - 3_600_000), 60_000, 'refresh-due'],
    ['inside the lead, already asked', EXP - 59_000, token(EXP - 3_600_000, true), 60_000, 'valid'],
    ['at exp', EXP, token(EXP - 3_600_000, true), 60_000, 'expired'],
    ['after exp, never asked', EXP + 1, token(EXP - 3_600_000), 60_000, 'expired'],
    ['a 4 s token is not asked the moment it arrives', EXP - 3_900, token(EXP - 4_000), 60_000, 'valid'],
    ['a 4 s token is asked at half its life', EXP - 2_000, token(EXP - 4_000), 60_000, 'refresh-due'],
    ['with no lead, nothing is asked before exp', EXP - 1, token(EXP - 4_000), 0, 'valid'],
  ])('%s', (_name, now, times, lead, expected) => {
    expect(tokenState(now, times, lead)).toBe(expected);
  });
});

describe('accessVerdict: access decided again for an open connection', () => {
  const granted = (canWrite: boolean) => ({ granted: true as const, grant: { role: canWrite ? ('editor' as const) : ('viewer' as const), canWrite } });
  it('keeps a connection whose role is unchanged', () => {
    expect(accessVerdict(granted(true), false)).toBeNull();
    expect(accessVerdict(granted(false), true)).toBeNull();
  });
  it('ends a connection whose role changed either way with access-changed', () => {
    expect(accessVerdict(granted(false), false)?.reason).toMatch(/^access-changed: you are now a viewer/);
    expect(accessVerdict(granted(true), true)?.reason).toMatch(/^access-changed: you may now edit/);
  });
  it('ends a refused connection with the refusal itself', () => {
    const decision = decideAccess({ userId: ME, isAdmin: false }, { kind: 'scene', id: 'x' }, { userExists: false, script: null });
    expect(codeOf(accessVerdict(decision, false)!.reason)).toBe('unknown-user');
  });
});
