import type { SqlExecutor } from '../db/sql.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Logger } from '../logger.ts';
import { AuthRefusal, refuse } from './errors.ts';
import { describeId, isCanonicalUuid } from './ids.ts';
import type { Principal } from './tokens.ts';

/**
 * What a user is to a script. `admin` is an administrator with no role of their own in the script;
 * an administrator who owns the script or edits it keeps that role (and `isAdmin` says the rest).
 */
export type ScriptRole = 'owner' | 'editor' | 'viewer' | 'admin';

export interface AccessGrant {
  role: ScriptRole;
  /** False for a viewer: the connection is read-only and nothing it sends is stored. */
  canWrite: boolean;
}

/** The rows the decision needs, as the database returned them. */
export interface AccessFacts {
  userExists: boolean;
  /** Null when the scene (or script) does not exist. */
  script: { ownerId: string; collaboratorRole: 'editor' | 'viewer' | null } | null;
  /** The scene is deleted (soft, `scenes.deleted_at`); absent for a script. */
  sceneDeleted?: boolean;
}

export type AccessDecision = { granted: true; grant: AccessGrant } | { granted: false; refusal: AuthRefusal };

/**
 * Who may open what, as a pure function. Owners and editors write; viewers read. Administrators
 * write to any script: they are the people who repair a scene (the architecture document lets them
 * snapshot any scene, section 13.1), and a read-only administrator could not. The refusal order
 * matters: an unknown user is refused before anything about the target is revealed, and only someone
 * who may see the script learns that one of its scenes was deleted (a stranger gets `no-access`).
 */
export function decideAccess(principal: Principal, target: { kind: 'scene' | 'script'; id: string }, facts: AccessFacts): AccessDecision {
  const decision = decideRole(principal, target, facts);
  if (decision.granted && facts.sceneDeleted) {
    return { granted: false, refusal: refuse('scene-deleted', `scene ${target.id} was deleted; the script's owner or an editor can restore it`) };
  }
  return decision;
}

function decideRole(principal: Principal, target: { kind: 'scene' | 'script'; id: string }, facts: AccessFacts): AccessDecision {
  if (!facts.userExists) {
    return { granted: false, refusal: refuse('unknown-user', 'the token names a user that does not exist') };
  }
  if (!facts.script) {
    const code = target.kind === 'scene' ? 'unknown-scene' : 'unknown-script';
    return { granted: false, refusal: refuse(code, `no ${target.kind} ${target.id}`) };
  }
  const { ownerId, collaboratorRole } = facts.script;
  if (ownerId === principal.userId) return { granted: true, grant: { role: 'owner', canWrite: true } };
  if (collaboratorRole === 'editor') return { granted: true, grant: { role: 'editor', canWrite: true } };
  if (principal.isAdmin) return { granted: true, grant: { role: 'admin', canWrite: true } };
  if (collaboratorRole === 'viewer') return { granted: true, grant: { role: 'viewer', canWrite: false } };
  return { granted: false, refusal: refuse('no-access', target.kind === 'scene' ? "you are not a collaborator on this scene's script" : 'you are not a collaborator on this script') };
}

export interface SceneAccess extends AccessGrant {
  sceneId: string;
  scriptId: string;
}

export interface ScriptAccess extends AccessGrant {
  scriptId: string;
}

export interface AccessControlConfiguration {
  prisma: PrismaClient;
  /** The per-connection lookups: one prepared statement each (see `SCENE_ACCESS_SQL`). */
  sql: SqlExecutor;
  logger: Logger;
}

/** One row whatever exists: whether the user does, and the scene's script, owner and the user's role in it. */
interface AccessRow {
  user_exists: boolean;
  script_id: string | null;
  deleted_at: Date | null;
  owner_id: string | null;
  role: 'editor' | 'viewer' | null;
}

/** What an access row says, as `decideAccess` takes it (a script's row is never deleted: `deleted_at` is NULL). */
function factsOf(row: AccessRow): AccessFacts {
  return {
    userExists: row.user_exists,
    script: row.script_id !== null ? { ownerId: row.owner_id!, collaboratorRole: row.role } : null,
    sceneDeleted: row.script_id !== null && row.deleted_at !== null,
  };
}

// Every connection asks this before anything else, so it is one prepared statement and one round
// trip: as two Prisma queries (the scene's with its script and collaborator nested) it cost the
// serving thread about a millisecond per connection, 0.4 s of a storm of 500 reconnections.
const SCENE_ACCESS_SQL = `
  SELECT EXISTS (SELECT 1 FROM users WHERE user_id = $1::uuid) AS user_exists,
         s.script_id, s.deleted_at, sc.owner_id, c.role::text AS role
  FROM (SELECT 1) AS one
  LEFT JOIN scenes s ON s.scene_id = $2::uuid
  LEFT JOIN scripts sc ON sc.script_id = s.script_id
  LEFT JOIN script_collaborators c ON c.script_id = s.script_id AND c.user_id = $1::uuid`;

const SCRIPT_ACCESS_SQL = `
  SELECT EXISTS (SELECT 1 FROM users WHERE user_id = $1::uuid) AS user_exists,
         sc.script_id, NULL::timestamptz AS deleted_at, sc.owner_id, c.role::text AS role
  FROM (SELECT 1) AS one
  LEFT JOIN scripts sc ON sc.script_id = $2::uuid
  LEFT JOIN script_collaborators c ON c.script_id = sc.script_id AND c.user_id = $1::uuid`;

/**
 * Looks up what `decideAccess` needs. The user, the scene, its script's owner and the user's
 * collaborator row come in one statement: the user id comes from the token, so nothing waits for
 * anything else (reliability plan 2.2). Nothing here is cached: a deleted user or a
 * removed collaborator is refused at their next connection, and open connections are checked again
 * with `decideMany` (src/auth/openConnections.ts).
 */
export class AccessControl {
  private readonly configuration: AccessControlConfiguration;

  constructor(configuration: AccessControlConfiguration) {
    this.configuration = { ...configuration };
  }

  /** Resolves to the grant or rejects with an `AuthRefusal`. */
  async sceneAccess(principal: Principal, sceneId: string): Promise<SceneAccess> {
    if (!isCanonicalUuid(sceneId)) {
      throw refuse('invalid-scene-id', `${describeId(sceneId)} is not a scene id (a lower-case UUID)`);
    }
    const { sql } = this.configuration;
    const [row] = await this.lookup({ userId: principal.userId, targetId: sceneId }, () =>
      sql.query<AccessRow>('auth_scene_access', SCENE_ACCESS_SQL, [principal.userId, sceneId]),
    );
    const decision = decideAccess(principal, { kind: 'scene', id: sceneId }, factsOf(row!));
    if (!decision.granted) throw decision.refusal;
    return { ...decision.grant, sceneId, scriptId: row!.script_id! };
  }

  /** The same decision for a whole script, for the HTTP API. */
  async scriptAccess(principal: Principal, scriptId: string): Promise<ScriptAccess> {
    if (!isCanonicalUuid(scriptId)) {
      throw refuse('invalid-script-id', `${describeId(scriptId)} is not a script id (a lower-case UUID)`);
    }
    const { sql } = this.configuration;
    const [row] = await this.lookup({ userId: principal.userId, targetId: scriptId }, () =>
      sql.query<AccessRow>('auth_script_access', SCRIPT_ACCESS_SQL, [principal.userId, scriptId]),
    );
    const decision = decideAccess(principal, { kind: 'script', id: scriptId }, factsOf(row!));
    if (!decision.granted) throw decision.refusal;
    return { ...decision.grant, scriptId };
  }

  /**
   * The decisions for many open connections at once, in the order asked: two queries whatever the
   * count, so every open connection can be checked again every few seconds. Rejects with
   * `auth-unavailable` when the database cannot answer; the caller then decides nothing.
   */
  async decideMany(requests: readonly { principal: Principal; sceneId: string }[]): Promise<AccessDecision[]> {
    if (requests.length === 0) return [];
    const { prisma } = this.configuration;
    const userIds = [...new Set(requests.map((r) => r.principal.userId))];
    const sceneIds = [...new Set(requests.map((r) => r.sceneId))];
    const [users, scenes] = await this.lookup({ users: userIds.length, scenes: sceneIds.length }, () =>
      Promise.all([
        prisma.user.findMany({ where: { userId: { in: userIds } }, select: { userId: true } }),
        prisma.scene.findMany({
          where: { sceneId: { in: sceneIds } },
          select: {
            sceneId: true,
            deletedAt: true,
            script: {
              select: { ownerId: true, collaborators: { where: { userId: { in: userIds } }, select: { userId: true, role: true } } },
            },
          },
        }),
      ]),
    );
    const known = new Set(users.map((u) => u.userId));
    const byScene = new Map(scenes.map((scene) => [scene.sceneId, scene]));
    return requests.map(({ principal, sceneId }) => {
      const scene = byScene.get(sceneId);
      const script = scene?.script;
      return decideAccess(principal, { kind: 'scene', id: sceneId }, {
        userExists: known.has(principal.userId),
        script: script
          ? { ownerId: script.ownerId, collaboratorRole: script.collaborators.find((c) => c.userId === principal.userId)?.role ?? null }
          : null,
        sceneDeleted: scene !== undefined && scene.deletedAt !== null,
      });
    });
  }

  /** A database error refuses (never grants) with a reason that says to retry. */
  private async lookup<T>(about: Record<string, string | number>, query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      this.configuration.logger.error({ err: error, ...about }, 'access lookup failed; refused');
      throw refuse('auth-unavailable', 'access could not be checked right now; retry shortly', { cause: error });
    }
  }
}
