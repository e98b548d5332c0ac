import { afterEach, beforeAll, expect, it } from 'vitest';
import { InvalidSceneContentError, InvalidScriptFieldsError } from '../../src/scripts/errors.ts';
import { ScriptStore } from '../../src/scripts/scriptStore.ts';
import { canonicalizeBlocks, type CanonicalRestBlock } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';

const OPENING = canonicalizeBlocks([
  { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
  { type: 'action', text: 'Rain.\nNeon.', marks: [{ type: 'italic', from: 0, to: 4 }] },
  { type: 'dialogue', text: 'We were never here.', character: 'MAYA' },
]);
const ENDING = canonicalizeBlocks([{ type: 'transition', text: 'CUT TO BLACK.' }]);

describeEachServer('ScriptStore.createScriptWithScenes', ({ db, app, restart }) => {
  let owner: string;
  let store: ScriptStore;
  let clients: TestClient[] = [];

  beforeAll(async () => {
    owner = await createUser(db().prisma);
    store = new ScriptStore({ prisma: db().prisma });
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  const counts = async () => ({
    scripts: await db().prisma.script.count(),
    scenes: await db().prisma.scene.count(),
    versions: await db().prisma.sceneVersion.count(),
  });

  it('creates the script and its scenes at 0..n-1 with their REST copies, and no log row yet', async () => {
    const before = await counts();
    const { scriptId, sceneIds } = await store.createScriptWithScenes(
      {
        ownerId: owner,
        title: '  Night Diner ',
        titlePage: { title: 'NIGHT DINER', credit: 'written by', author: 'A. Writer', draft_date: '2026-12-03', contact: 'a@example.test\n555-0100' },
        scenes: [
          { heading: 'INT. DINER - NIGHT', blocks: OPENING },
          { heading: null, blocks: [] },
          { heading: 'EXT. STREET - LATER', blocks: ENDING },
        ],
      },
      { snapshotSource: 'import' },
    );
    expect(sceneIds).toHaveLength(3);
    const script = await db().prisma.script.findUniqueOrThrow({ where: { scriptId } });
    expect(script).toMatchObject({ ownerId: owner, title: 'Night Diner', titlePage: { title: 'NIGHT DINER', contact: 'a@example.test\n555-0100' } });
    const scenes = await db().prisma.scene.findMany({ where: { scriptId }, orderBy: { position: 'asc' } });
    expect(scenes.map((scene) => [scene.sceneId, scene.position, scene.sceneHeading, scene.snapshotSource, scene.yjsSeededAt])).toEqual([
      [sceneIds[0], 0, 'INT. DINER - NIGHT', 'import', null],
      [sceneIds[1], 1, null, 'import', null],
      [sceneIds[2], 2, 'EXT. STREET - LATER', 'import', null],
    ]);
    expect(canonical(scenes[0]!.contentBlocks)).toBe(canonical(OPENING));
    expect(await counts()).toEqual({ scripts: before.scripts + 1, scenes: before.scenes + 3, versions: before.versions });
  });

  it('seeds each scene into its log exactly once, when editors first open it at the same moment', async () => {
    const { sceneIds } = await store.createScriptWithScenes(
      { ownerId: owner, title: 'Seeded once', scenes: [{ heading: 'INT. DINER - NIGHT', blocks: OPENING }] },
      { snapshotSource: 'manual' },
    );
    const sceneId = sceneIds[0]!;
    const token = await tokenFor(owner);
    // Four providers racing to open the never-loaded scene: one seed, whoever wins.
    clients = Array.from({ length: 4 }, () => connectClient(app().wsUrl, sceneId, { token }));
    await Promise.all(clients.map((client) => waitForSynced(client)));
    for (const client of clients) expect(blocksOf(client.doc)).toBe(canonical(OPENING));
    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.createdBy).toBeNull();
    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(scene.yjsSeededAt).not.toBeNull();

    // A restart (the document loaded again from the log) never seeds a second time.
    for (const client of clients) client.destroy();
    clients = [];
    await restart();
    const again = connectClient(app().wsUrl, sceneId, { token });
    clients.push(again);
    await waitForSynced(again);
    expect(blocksOf(again.doc)).toBe(canonical(OPENING));
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
  });

  it('creates nothing when a scene holds blocks that are not REST blocks, and says which scene', async () => {
    const before = await counts();
    const bad = [{ type: 'action', text: 'fine' }, { text: 'no type' }] as unknown as CanonicalRestBlock[];
    const error = await store
      .createScriptWithScenes({ ownerId: owner, title: 'Broken', scenes: [{ heading: null, blocks: OPENING }, { heading: null, blocks: bad }] }, { snapshotSource: 'import' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidSceneContentError);
    expect((error as InvalidSceneContentError).sceneIndex).toBe(1);
    expect((error as Error).message).toMatch(/^scenes\[1\]\.blocks: /);
    expect(await counts()).toEqual(before);
  });

  it('creates nothing for a bad title, title page or heading', async () => {
    const before = await counts();
    const attempts = [
      { title: '', scenes: [] },
      { title: 'x'.repeat(301), scenes: [] },
      { title: 'Fine', titlePage: { title: 42 } as unknown as Record<string, string>, scenes: [] },
      { title: 'Fine', titlePage: { 'Not A Key': 'x' }, scenes: [] },
      { title: 'Fine', scenes: [{ heading: 'x'.repeat(501), blocks: [] }] },
    ];
    for (const attempt of attempts) {
      await expect(store.createScriptWithScenes({ ownerId: owner, ...attempt }, { snapshotSource: 'import' })).rejects.toBeInstanceOf(InvalidScriptFieldsError);
    }
    expect(await counts()).toEqual(before);
  });

  it('rolls back the script when the scenes fail to insert after it', async () => {
    const before = await counts();
    // The database itself refuses the scenes' insert, after the script's row was written in the same
    // transaction: a trigger that fails on one heading.
    await db().prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_scene() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'test: scene refused'; END $$`);
    await db().prisma.$executeRawUnsafe(`
      CREATE TRIGGER test_refuse_scene BEFORE INSERT ON scenes FOR EACH ROW
      WHEN (NEW.scene_heading = 'REFUSED BY THE DATABASE') EXECUTE FUNCTION test_refuse_scene()`);
    try {
      await expect(
        store.createScriptWithScenes(
          { ownerId: owner, title: 'Half made', scenes: [{ heading: 'INT. FINE', blocks: OPENING }, { heading: 'REFUSED BY THE DATABASE', blocks: ENDING }] },
          { snapshotSource: 'import' },
        ),
      ).rejects.toThrow(/test: scene refused/);
    } finally {
      await db().prisma.$executeRawUnsafe('DROP TRIGGER test_refuse_scene ON scenes');
      await db().prisma.$executeRawUnsafe('DROP FUNCTION test_refuse_scene()');
    }
    expect(await counts()).toEqual(before);
    expect(await db().prisma.script.count({ where: { title: 'Half made' } })).toBe(0);
  });

  it('refuses text the database cannot store (U+0000) as bad content, creating nothing', async () => {
    const before = await counts();
    const nul = canonicalizeBlocks([{ type: 'action', text: 'a\u0000b' }]);
    await expect(store.createScriptWithScenes({ ownerId: owner, title: 'Nul', scenes: [{ heading: null, blocks: nul }] }, { snapshotSource: 'import' })).rejects.toBeInstanceOf(
      InvalidSceneContentError,
    );
    await expect(store.createScriptWithScenes({ ownerId: owner, title: 'Nul\u0000', scenes: [] }, { snapshotSource: 'import' })).rejects.toBeInstanceOf(InvalidScriptFieldsError);
    expect(await counts()).toEqual(before);
  });
});
