// The feed's cursor as clients see it: opaque, so the position's shape can change without breaking
// them, and checked strictly, so a mangled one is a 400 instead of a silent restart from zero.
import type { ChangePosition } from '../log/changes.ts';

export class MalformedCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor(readonly cursor: string) {
    super('The cursor is not one this server gave out');
    this.name = 'MalformedCursorError';
  }
}

const DECODED = /^v1:(0|[1-9][0-9]{0,19}):(0|[1-9][0-9]{0,19})$/;
const MAX_UINT64 = (1n << 64n) - 1n;

export function encodeCursor(position: ChangePosition): string {
  return Buffer.from(`v1:${position.xid}:${position.changeId}`).toString('base64url');
}

export function decodeCursor(cursor: string): ChangePosition {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new MalformedCursorError(cursor);
  const match = DECODED.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new MalformedCursorError(cursor);
  const xid = BigInt(match[1]!);
  const changeId = BigInt(match[2]!);
  if (xid > MAX_UINT64 || changeId > MAX_UINT64 >> 1n) throw new MalformedCursorError(cursor);
  return { xid, changeId };
}
