import type { Config } from '../config.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import type { DemoInfo } from '../http/pageConfig.ts';
import { DEMO_SCENES, DEMO_SCRIPT_TITLE, DEMO_USERS } from './demoScript.ts';

export type DemoSeedOutcome = 'seeded' | 'database-not-empty';

/**
 * Demo data exists only where development tokens do (no AUTH_JWT_SECRET, NODE_ENV not production):
 * the demo is reachable only through a token the server issues itself, and a production database
 * must never gain users nobody created.
 */
export function demoEnabled(config: Pick<Config, 'auth'>): boolean {
  return config.auth.devTokens;
}

/** Key of the advisory lock that makes two instances starting on one empty database seed it once. */
const DEMO_LOCK = 'writersroom-demo-seed';

/**
 * Seeds the demo users, script and scenes when the database holds no script at all. The check and
 * the inserts run in one transaction under an advisory lock: instances starting together on one
 * PostgreSQL database queue on it, and the later ones find the script the first one made. A
 * database that already has scripts (the developer's own, or the demo from an earlier start) is
 * left alone, so a restart never duplicates the demo or brings back a deleted one into real data.
 */
export async function seedDemoData(deps: { prisma: PrismaClient; logger: Logger }): Promise<DemoSeedOutcome> {
  const { prisma, logger } = deps;
  const outcome = await prisma.$transaction(async (tx) => {
    // pg_advisory_xact_lock returns void, which not every driver decodes: select a constant from it.
    await tx.$queryRawUnsafe('SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtext($1))) AS l', DEMO_LOCK);
    if ((await tx.script.count()) > 0) return 'database-not-empty' as const;

    const users = [];
    for (const user of DEMO_USERS) {
      users.push(
        await tx.user.upsert({
          where: { email: user.email },
          create: { email: user.email, displayName: user.displayName },
          update: {},
          select: { userId: true },
        }),
      );
    }
    const owner = users[DEMO_USERS.findIndex((user) => user.role === 'owner')]!;
    const script = await tx.script.create({ data: { ownerId: owner.userId, title: DEMO_SCRIPT_TITLE }, select: { scriptId: true } });
    for (const [index, user] of DEMO_USERS.entries()) {
      if (user.role === 'owner') continue;
      await tx.scriptCollaborator.create({ data: { scriptId: script.scriptId, userId: users[index]!.userId, role: user.role } });
    }
    for (const [position, scene] of DEMO_SCENES.entries()) {
      await tx.scene.create({
        data: { scriptId: script.scriptId, position, sceneHeading: scene.heading, contentBlocks: scene.blocks as object[] },
      });
    }
    return 'seeded' as const;
  });
  if (outcome === 'seeded') {
    logger.warn(
      { users: DEMO_USERS.map((user) => user.email), scenes: DEMO_SCENES.length },
      'development mode: seeded the demo script into the empty database',
    );
  }
  return outcome;
}

/**
 * The demo script, when the database has it: the first script titled as the demo and owned by the
 * demo owner. Null when the database was not seeded with the demo (it had scripts of its own).
 */
export async function findDemo(prisma: PrismaClient): Promise<DemoInfo | null> {
  const ownerEmail = DEMO_USERS.find((user) => user.role === 'owner')!.email;
  const script = await prisma.script.findFirst({
    where: { title: DEMO_SCRIPT_TITLE, owner: { email: ownerEmail } },
    orderBy: { createdAt: 'asc' },
    select: { scriptId: true, title: true },
  });
  if (!script) return null;
  return {
    scriptId: script.scriptId,
    title: script.title,
    users: DEMO_USERS.map(({ email, displayName, color }) => ({ email, displayName, color })),
  };
}
