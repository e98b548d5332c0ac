import { isTransactionOrigin, type LocalTransactionOrigin } from '@hocuspocus/server';

/** What the authentication and schema-gate extensions put on a connection's context. */
export interface ConnectionContext {
  /** `sub` of the token: the user the connection's updates are attributed to (`created_by`). */
  userId?: string;
  isAdmin?: boolean;
  /** `admin`: an administrator with no role of their own in the script (administrators write). */
  role?: 'owner' | 'editor' | 'viewer' | 'admin';
  /** The screenplay schema version the editor said it runs. */
  schemaVersion?: number;
}

const ALREADY_STORED = Symbol.for('writersroom.alreadyStored');

/**
 * The origin for a server-side change whose update the caller has already appended to the log
 * (seeding, repairs): the append-log extension must not store it a second time.
 */
export function alreadyStoredOrigin(context: Record<string, unknown> = {}): LocalTransactionOrigin {
  return { source: 'local', context: { ...context, [ALREADY_STORED]: true } };
}

export type OriginKind = 'client' | 'redis' | 'already-stored' | 'server';

/**
 * Who made a document change, which decides whether the append-log extension stores it from
 * `onChange`: client updates were stored in `beforeSync` before they were applied; Redis updates
 * were stored by the instance their client is connected to; anything else the server did itself
 * and is stored here, once.
 */
export function classifyOrigin(origin: unknown): OriginKind {
  if (!isTransactionOrigin(origin)) return 'server';
  switch (origin.source) {
    case 'connection':
      return 'client';
    case 'redis':
      return 'redis';
    case 'local': {
      const context = origin.context as Record<PropertyKey, unknown> | undefined;
      return context?.[ALREADY_STORED] ? 'already-stored' : 'server';
    }
  }
}

/** The user a server-side change is attributed to, when its caller named one. */
export function userIdOfOrigin(origin: unknown): string | null {
  if (!isTransactionOrigin(origin)) return null;
  if (origin.source === 'connection') return (origin.connection.context as ConnectionContext | undefined)?.userId ?? null;
  if (origin.source === 'local') return ((origin.context ?? {}) as ConnectionContext).userId ?? null;
  return null;
}
