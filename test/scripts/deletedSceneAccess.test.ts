import { describe, expect, it } from 'vitest';
import { decideAccess, type AccessFacts } from '../../src/auth/access.ts';
import { accessVerdict } from '../../src/auth/tokenLifetime.ts';

const OWNER = '00000000-0000-4000-8000-000000000001';
const ME = '00000000-0000-4000-8000-000000000002';
const SCENE = '00000000-0000-4000-8000-0000000000aa';

const facts = (collaboratorRole: 'editor' | 'viewer' | null, sceneDeleted: boolean, ownerId = OWNER): AccessFacts => ({
  userExists: true,
  script: { ownerId, collaboratorRole },
  sceneDeleted,
});

describe('access to a deleted scene (decideAccess)', () => {
  it.each([
    ['the owner', ME, false, null, 'scene-deleted'],
    ['an editor', OWNER, false, 'editor', 'scene-deleted'],
    ['a viewer', OWNER, false, 'viewer', 'scene-deleted'],
    ['an administrator with no role', OWNER, true, null, 'scene-deleted'],
    // Only someone who may see the script learns that one of its scenes was deleted.
    ['a stranger', OWNER, false, null, 'no-access'],
  ] as const)('refuses %s with %s', (_who, ownerId, isAdmin, role, code) => {
    const decision = decideAccess({ userId: ME, isAdmin }, { kind: 'scene', id: SCENE }, facts(role, true, ownerId));
    expect(decision.granted).toBe(false);
    const refusal = (decision as { refusal: { code: string; closeCode: number; httpStatus: number; reason: string } }).refusal;
    expect(refusal.code).toBe(code);
    if (code === 'scene-deleted') {
      expect([refusal.closeCode, refusal.httpStatus]).toEqual([4410, 410]);
      expect(refusal.reason).toBe(`scene-deleted: scene ${SCENE} was deleted; the script's owner or an editor can restore it`);
    }
  });

  it('refuses an unknown user as unknown-user before anything about the scene', () => {
    const decision = decideAccess({ userId: ME, isAdmin: false }, { kind: 'scene', id: SCENE }, { ...facts('editor', true), userExists: false });
    expect(decision.granted ? null : decision.refusal.code).toBe('unknown-user');
  });

  it('grants a live scene as before, and ends an open connection to a deleted one whatever its mode', () => {
    expect(decideAccess({ userId: ME, isAdmin: false }, { kind: 'scene', id: SCENE }, facts('editor', false))).toMatchObject({ granted: true, grant: { role: 'editor' } });
    const deleted = decideAccess({ userId: ME, isAdmin: false }, { kind: 'scene', id: SCENE }, facts('editor', true));
    expect(accessVerdict(deleted, false)?.code).toBe('scene-deleted');
    expect(accessVerdict(deleted, true)?.code).toBe('scene-deleted');
  });
});
