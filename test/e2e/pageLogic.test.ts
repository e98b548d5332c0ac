import { EditorState, TextSelection } from '@tiptap/pm/state';
import { describe, expect, it } from 'vitest';
import { screenplaySchema } from '../../src/screenplay/schema.ts';
import { AuthRefusal } from '../../src/auth/errors.ts';
import { SceneLoadError } from '../../src/collab/errors.ts';
import { UpdateRefused } from '../../src/guards/admission.ts';
import { SceneSeedingError } from '../../src/restCopy/errors.ts';
import { signAccessToken } from '../../src/auth/tokens.ts';
import { tokenExpired } from '../../src/auth/tokenLifetime.ts';
import { isReauthenticateRefusal, isTransientRefusal, isUpdateRefusal } from '../../web/refusals.ts';
import { refreshDelay, tokenExpiry } from '../../web/tokenRefresh.ts';
import { saveStatus, type ProviderFacts } from '../../web/saveStatus.ts';
import { BLOCK_SHORTCUTS, NEXT_ON_ENTER, NEXT_ON_SHIFT_TAB, NEXT_ON_TAB, setBlockType } from '../../web/screenplayKeymap.ts';

/** The editor page's decisions, without a browser: the save indicator and the block-type tables. */

const base: ProviderFacts = { connection: 'connected', synced: true, unsynced: 0, readOnly: false, refusal: null };

describe('refusals', () => {
  // The reasons exactly as the server builds them.
  const transient = [
    new AuthRefusal('auth-unavailable', 'access could not be checked right now; retry shortly').reason,
    new SceneLoadError('00000000-0000-4000-8000-000000000000', {}).reason,
    new SceneSeedingError('00000000-0000-4000-8000-000000000000').reason,
  ];
  const final = [
    new AuthRefusal('no-access', 'not a collaborator').reason,
    new AuthRefusal('token-expired', 'sign in again').reason,
    new AuthRefusal('outdated-editor', 'reload').reason,
  ];
  const updates = [new UpdateRefused('too-large', '2 MB').reason, new UpdateRefused('malformed', 'garbage').reason];

  it('retries a connection the database could not serve for a moment, and nothing else', () => {
    for (const reason of transient) expect(isTransientRefusal(reason), reason).toBe(true);
    for (const reason of [...final, ...updates]) expect(isTransientRefusal(reason), reason).toBe(false);
  });

  it('asks for a reload only for content the server will never store', () => {
    for (const reason of updates) expect(isUpdateRefusal(reason), reason).toBe(true);
    for (const reason of [...transient, ...final, new UpdateRefused('rate-limited', 'slow down').reason]) {
      expect(isUpdateRefusal(reason), reason).toBe(false);
    }
  });

  it('connects again with a fresh token when an open connection ended for its token or its role, and for nothing else', () => {
    const reauthenticate = [tokenExpired(Date.now()).reason, new AuthRefusal('access-changed', 'you are now a viewer').reason];
    for (const reason of reauthenticate) expect(isReauthenticateRefusal(reason), reason).toBe(true);
    for (const reason of [...transient, ...updates, new AuthRefusal('no-access', 'removed').reason]) expect(isReauthenticateRefusal(reason), reason).toBe(false);
  });
});

describe('token refresh', () => {
  it('reads exp from a JWT, and nothing from what is not one', async () => {
    const { token, expiresAt } = await signAccessToken({ secret: new Uint8Array(32), userId: '00000000-0000-4000-8000-000000000001', ttlSeconds: 60 });
    expect(tokenExpiry(token)).toBe(expiresAt);
    expect(tokenExpiry('not a token')).toBeNull();
    expect(tokenExpiry('')).toBeNull();
  });

  it('sends a fresh token ahead of the server: two minutes before exp, or at 40% of a short life', () => {
    const now = 1_000_000;
    expect(refreshDelay(now, now + 3_600_000)).toBe(3_600_000 - 120_000);
    expect(refreshDelay(now, now + 10_000)).toBe(4_000);
    expect(refreshDelay(now, now - 1)).toBe(0);
  });
});

describe('saveStatus', () => {
  it.each<[Partial<ProviderFacts>, string, boolean]>([
    [{}, 'saved', false],
    [{ unsynced: 3 }, 'saving', true],
    [{ synced: false, unsynced: 1 }, 'loading', true],
    [{ connection: 'connecting', synced: false }, 'connecting', false],
    [{ connection: 'disconnected', synced: false }, 'offline', false],
    [{ connection: 'disconnected', synced: false, unsynced: 5 }, 'unsaved-offline', true],
    [{ connection: 'connecting', synced: false, unsynced: 5 }, 'unsaved-offline', true],
    [{ readOnly: true }, 'read-only', false],
    [{ refusal: 'update-too-large: the update is 2 MB' }, 'refused', true],
    [{ refusal: 'no-access: not a collaborator', connection: 'disconnected' }, 'refused', true],
  ])('%o -> %s', (facts, state, atRisk) => {
    const status = saveStatus({ ...base, ...facts });
    expect(status.state).toBe(state);
    expect(status.atRisk).toBe(atRisk);
  });

  it('calls the state "All changes saved" only when the server acknowledged everything', () => {
    expect(saveStatus(base).label).toBe('All changes saved');
    for (const facts of [{ unsynced: 1 }, { synced: false }, { connection: 'disconnected' as const }]) {
      expect(saveStatus({ ...base, ...facts }).label).not.toMatch(/saved$/i);
    }
  });
});

describe('block-type tables', () => {
  const elements = BLOCK_SHORTCUTS.map((shortcut) => shortcut.node);

  it('name only screenplay nodes, each shortcut digit once', () => {
    for (const node of [...elements, ...Object.values(NEXT_ON_ENTER), ...Object.values(NEXT_ON_TAB), ...Object.values(NEXT_ON_SHIFT_TAB)]) {
      expect(screenplaySchema.nodes[node], node).toBeDefined();
    }
    expect(new Set(BLOCK_SHORTCUTS.map((shortcut) => shortcut.digit)).size).toBe(BLOCK_SHORTCUTS.length);
    for (const table of [NEXT_ON_ENTER, NEXT_ON_TAB, NEXT_ON_SHIFT_TAB]) expect(Object.keys(table).sort()).toEqual([...elements].sort());
  });

  it('follow the screenwriting conventions', () => {
    expect(NEXT_ON_ENTER).toMatchObject({ sceneHeading: 'action', character: 'dialogue', parenthetical: 'dialogue', transition: 'sceneHeading' });
    expect(NEXT_ON_TAB).toMatchObject({ action: 'character', dialogue: 'parenthetical', parenthetical: 'dialogue' });
  });
});

describe('setBlockType', () => {
  const { nodes } = screenplaySchema;
  const doc = screenplaySchema.node('doc', null, [
    nodes.action!.create({ blockId: 'b1', metadata: '{"revised":true}' }, screenplaySchema.text('Rain.')),
    nodes.dialogue!.create({ blockId: 'b2', character: 'MAYA' }, screenplaySchema.text('Hi.')),
  ]);

  it('changes the type and keeps the REST identity the target type can hold', () => {
    const state = EditorState.create({ schema: screenplaySchema, doc, selection: TextSelection.create(doc, 2) });
    const changed = setBlockType(state, nodes.character!)!.doc.child(0);
    expect(changed.type.name).toBe('character');
    expect(changed.attrs).toMatchObject({ blockId: 'b1', metadata: '{"revised":true}' });
    expect(changed.textContent).toBe('Rain.');
  });

  it('changes every block of a selection and nothing when there is nothing to change', () => {
    const state = EditorState.create({ schema: screenplaySchema, doc, selection: TextSelection.create(doc, 2, doc.content.size - 1) });
    const changed = setBlockType(state, nodes.transition!)!.doc;
    expect([changed.child(0).type.name, changed.child(1).type.name]).toEqual(['transition', 'transition']);
    expect(changed.child(1).attrs.blockId).toBe('b2');
    expect(setBlockType(EditorState.create({ schema: screenplaySchema, doc, selection: TextSelection.create(doc, 2) }), nodes.action!)).toBeNull();
  });

  it('gives an empty scene its first block', () => {
    const empty = screenplaySchema.node('doc', null, []);
    const tr = setBlockType(EditorState.create({ schema: screenplaySchema, doc: empty }), nodes.sceneHeading!)!;
    expect(tr.doc.childCount).toBe(1);
    expect(tr.doc.child(0).type.name).toBe('sceneHeading');
    expect(tr.selection.from).toBe(1);
  });
});
