import type { Principal } from '../auth/tokens.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { ChangePosition, LogChanges, SceneChange } from '../log/changes.ts';
import type { ChangeWatch } from './watch.ts';

export interface ChangeFeedConfiguration {
  changes: LogChanges;
  prisma: PrismaClient;
  watch: ChangeWatch;
}

export interface ChangePage {
  changes: SceneChange[];
  /** Where the next read continues: the last change returned, or where this one started. */
  next: ChangePosition;
}

export interface FeedRead {
  principal: Principal;
  /** Null: from the oldest change the feed keeps. */
  after: ChangePosition | null;
  /** One script (the caller checked it may read it), or every script the principal may read. */
  scriptId: string | null;
  limit: number;
  /** Long poll: when nothing is there, wait up to this long for a change. */
  waitMs: number;
  signal?: AbortSignal;
}

/**
 * The change feed as a reader sees it: pages of `sceneLog.changes` limited to the scripts the
 * reader may read, and the long poll over them.
 */
export class ChangeFeed {
  constructor(private readonly configuration: ChangeFeedConfiguration) {}

  /** False once the server shuts down: streams end instead of waiting. */
  get open(): boolean {
    return !this.configuration.watch.isClosed;
  }

  async read(request: FeedRead): Promise<ChangePage> {
    const { changes, watch } = this.configuration;
    const after = request.after ?? (await changes.floor());
    const scriptIds = request.scriptId !== null ? [request.scriptId] : await this.readableScripts(request.principal);
    const deadline = Date.now() + request.waitMs;
    for (;;) {
      const page = await changes.page({ after, scriptIds, limit: request.limit });
      const remaining = deadline - Date.now();
      if (page.length > 0 || remaining <= 0 || request.signal?.aborted || !this.open) return { changes: page, next: page.at(-1)?.position ?? after };
      await watch.wait(remaining, request.signal);
    }
  }

  /**
   * Every script the principal may read, in one query (null for an administrator: all of them):
   * the owner's and the collaborator's scripts, as `decideAccess` grants reading. Read once per
   * request; a collaborator added meanwhile shows up in the next one.
   */
  async readableScripts(principal: Principal): Promise<string[] | null> {
    if (principal.isAdmin) return null;
    const rows = await this.configuration.prisma.script.findMany({
      where: { OR: [{ ownerId: principal.userId }, { collaborators: { some: { userId: principal.userId } } }] },
      select: { scriptId: true },
    });
    return rows.map((row) => row.scriptId);
  }
}
