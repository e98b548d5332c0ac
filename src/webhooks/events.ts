// A delivery's identity and body. The event id is derived, never stored first: the same endpoint,
// scene, seq and lifecycle count give the same id, so a delivery repeated after a crash or by a
// second instance carries the id of the first, and a receiver can drop the repeat.
import type { ChangeKind } from '../log/changes.ts';

export class MalformedEventIdError extends Error {
  readonly code = 'INVALID_EVENT_ID';
  constructor() {
    super('Not an event id this server gave out');
    this.name = 'MalformedEventIdError';
  }
}

export interface EventIdentity {
  endpointId: string;
  sceneId: string;
  seq: bigint;
  /** Deletes and restores of the scene folded so far: a scene restored at the seq it was deleted at is a new event. */
  lifecycle: number;
}

const uuidBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const uuidOf = (bytes: Buffer) => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** `evt_` and the identity in 44 bytes, base64url: decodable, so a redelivery by id needs no lookup table. */
export function eventIdOf(identity: EventIdentity): string {
  const bytes = Buffer.alloc(44);
  uuidBytes(identity.endpointId).copy(bytes, 0);
  uuidBytes(identity.sceneId).copy(bytes, 16);
  bytes.writeBigUInt64BE(identity.seq, 32);
  bytes.writeUInt32BE(identity.lifecycle, 40);
  return `evt_${bytes.toString('base64url')}`;
}

export function parseEventId(eventId: string): EventIdentity {
  const match = /^evt_([A-Za-z0-9_-]{59})$/.exec(eventId);
  if (!match) throw new MalformedEventIdError();
  const bytes = Buffer.from(match[1]!, 'base64url');
  if (bytes.length !== 44) throw new MalformedEventIdError();
  return { endpointId: uuidOf(bytes.subarray(0, 16)), sceneId: uuidOf(bytes.subarray(16, 32)), seq: bytes.readBigUInt64BE(32), lifecycle: bytes.readUInt32BE(40) };
}

/** The JSON body of a delivery. */
export interface WebhookPayload {
  eventId: string;
  scriptId: string;
  sceneId: string;
  /** The content holds every update up to this seq (for a deleted scene, the head it was deleted at). */
  seq: number;
  /** What made the changes this delivery coalesces. */
  kinds: ChangeKind[];
  /** The author of the newest of them. */
  createdBy: string | null;
  /** When the newest of them was committed. */
  at: string;
  deleted: boolean;
  /** The scene's REST blocks at `seq`; null for a deleted scene. */
  content: unknown[] | null;
}
