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

export interface ScriptOptions {
  ownerId?: string;
  title?: string;
  /** How many scenes, each holding `contentBlocks` (default one, empty). */
  scenes?: number;
  contentBlocks?: unknown[];
  /** One scene per entry, holding that REST content (any JSON, valid or not); overrides `scenes` and `contentBlocks`. */
  sceneContents?: readonly unknown[];
}

export async function createScript(prisma: PrismaClient, options: ScriptOptions = {}): Promise<SceneFixture> {
  const userId = options.ownerId ?? (await createUser(prisma));
  const script = await prisma.script.create({ data: { ownerId: userId, title: options.title ?? 'Test script' } });
  const contents = options.sceneContents ?? Array.from({ length: options.scenes ?? 1 }, () => options.contentBlocks ?? []);
  const sceneIds: string[] = [];
  for (const [position, contentBlocks] of contents.entries()) {
    const scene = await prisma.scene.create({
      data: {
        scriptId: script.scriptId,
        position,
        sceneHeading: `INT. ROOM ${position} - DAY`,
        contentBlocks: contentBlocks as object,
      },
    });
    sceneIds.push(scene.sceneId);
  }
  return { userId, scriptId: script.scriptId, sceneIds };
}
