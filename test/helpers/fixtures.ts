import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';

/** Rows a test needs to open a scene: an owner, a script and its scenes. */
export interface SceneFixture {
  userId: string;
  scriptId: string;
  sceneIds: string[];
}

export async function createUser(prisma: PrismaClient, email = `${randomUUID()}@example.test`): Promise<string> {
  const user = await prisma.user.create({ data: { email } });
  return user.userId;
}

export async function createScript(
  prisma: PrismaClient,
  options: { ownerId?: string; scenes?: number; contentBlocks?: unknown[]; title?: string } = {},
): Promise<SceneFixture> {
  const userId = options.ownerId ?? (await createUser(prisma));
  const script = await prisma.script.create({ data: { ownerId: userId, title: options.title ?? 'Test script' } });
  const sceneIds: string[] = [];
  for (let position = 0; position < (options.scenes ?? 1); position += 1) {
    const scene = await prisma.scene.create({
      data: {
        scriptId: script.scriptId,
        position,
        sceneHeading: `INT. ROOM ${position} - DAY`,
        contentBlocks: (options.contentBlocks ?? []) as object[],
      },
    });
    sceneIds.push(scene.sceneId);
  }
  return { userId, scriptId: script.scriptId, sceneIds };
}
