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
  /** The `exp` of the token the connection runs on, in milliseconds; a fresh token moves it (onTokenSync). */
  tokenExpiresAt?: number;
}

const ALREADY_STORED = Symbol.for('writersroom.alreadyStored');

/**
 * The origin for a server-side change whose update the caller has already appended to the log
 * (a PATCH, seeding): whoever changes a live document on the server stores the change first, then
 * applies it with this origin.
 */
export function alreadyStoredOrigin(context: Record<string, unknown> = {}): LocalTransactionOrigin {
  return { source: 'local', context: { ...context, [ALREADY_STORED]: true } };
}

export type OriginKind = 'client' | 'redis' | 'already-stored' | 'server';

/**
 * Who made a document change, and so who stored it: client updates were stored in `beforeSync`
 * before they were applied; Redis updates were stored by the instance their client is connected
 * to; `already-stored` changes by the server code that made them. A `server` change is none of
 * these: the server changed the document without storing the change.
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
