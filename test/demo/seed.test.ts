import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { DEMO_SCENES, DEMO_SCRIPT_TITLE, DEMO_USERS } from '../../src/demo/demoScript.ts';
import { demoEnabled, findDemo, seedDemoData } from '../../src/demo/seed.ts';
import { silentLogger } from '../../src/logger.ts';
import { parseRestBlocks } from '../../src/screenplay/index.ts';
import { TEST_JWT_SECRET } from '../helpers/auth.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';

const logger = silentLogger();

describe('demoEnabled', () => {
  it.each([
    { env: { NODE_ENV: 'development' }, enabled: true },
    { env: { NODE_ENV: 'test' }, enabled: true },
    { env: { NODE_ENV: 'development', AUTH_JWT_SECRET: TEST_JWT_SECRET }, enabled: false },
    { env: { NODE_ENV: 'development', AUTH_DEV_TOKENS: 'false' }, enabled: false },
    { env: { NODE_ENV: 'production', AUTH_JWT_SECRET: TEST_JWT_SECRET }, enabled: false },
  ])('$env -> $enabled (only where the server issues its own tokens)', ({ env, enabled }) => {
    expect(demoEnabled(loadConfig(env))).toBe(enabled);
  });
});

describe('the demo content', () => {
  it('is valid REST content with every element the page has a shortcut for', () => {
    const types = new Set<string>();
    for (const scene of DEMO_SCENES) {
      expect(() => parseRestBlocks(scene.blocks)).not.toThrow();
      expect(scene.blocks[0]).toEqual({ type: 'scene_heading', text: scene.heading });
      for (const block of scene.blocks) types.add(block.type);
    }
    expect([...types].sort()).toEqual(['action', 'character', 'dialogue', 'parenthetical', 'scene_heading', 'transition']);
  });
});

describeEachDatabase('seedDemoData', (db) => {
  it('seeds an empty database once: users, the script with its owner and editor, the scenes in order', async () => {
    const { prisma } = db();
    expect(await findDemo(prisma)).toBeNull();
    expect(await seedDemoData({ prisma, logger })).toBe('seeded');
    expect(await seedDemoData({ prisma, logger })).toBe('database-not-empty');

    const demo = await findDemo(prisma);
    expect(demo).toMatchObject({ title: DEMO_SCRIPT_TITLE, users: DEMO_USERS.map(({ email, displayName, color }) => ({ email, displayName, color })) });
    expect(await prisma.script.count()).toBe(1);
    expect(await prisma.user.count()).toBe(DEMO_USERS.length);
    const script = await prisma.script.findUniqueOrThrow({
      where: { scriptId: demo!.scriptId },
      include: { owner: true, collaborators: { include: { user: true } }, scenes: { orderBy: { position: 'asc' } } },
    });
    expect(script.owner.email).toBe(DEMO_USERS.find((user) => user.role === 'owner')!.email);
    expect(script.collaborators.map((c) => [c.user.email, c.role])).toEqual(
      DEMO_USERS.filter((user) => user.role !== 'owner').map((user) => [user.email, user.role]),
    );
    expect(script.scenes.map((scene) => [scene.position, scene.sceneHeading, scene.contentBlocks])).toEqual(
      DEMO_SCENES.map((scene, position) => [position, scene.heading, scene.blocks]),
    );
    // REST content only: the Yjs logs are seeded from it when a scene is first opened.
    expect(await prisma.sceneVersion.count()).toBe(0);

    await prisma.script.deleteMany();
    await prisma.user.deleteMany();
  });

  it('leaves a database that already has a script alone', async () => {
    const { prisma } = db();
    await createScript(prisma, { title: 'Somebody’s own work' });
    expect(await seedDemoData({ prisma, logger })).toBe('database-not-empty');
    expect(await findDemo(prisma)).toBeNull();
    expect(await prisma.script.count()).toBe(1);
    expect(await prisma.user.findMany({ where: { email: { in: DEMO_USERS.map((user) => user.email) } } })).toEqual([]);
    await prisma.script.deleteMany();
    await prisma.user.deleteMany();
  });
});

describeEachDatabase('seedDemoData with instances starting together on one database', { kinds: ['postgres'] }, (db) => {
  it('seeds once: the advisory lock queues them and the later ones find the script', async () => {
    const { prisma } = db();
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => seedDemoData({ prisma, logger })));
    expect(outcomes.filter((outcome) => outcome === 'seeded')).toHaveLength(1);
    expect(await prisma.script.count()).toBe(1);
    expect(await prisma.scene.count()).toBe(DEMO_SCENES.length);
  });
});
