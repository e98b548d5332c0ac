import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';

/** Hocuspocus message types (server src/types.ts) and y-protocols sync types. */
export const MSG = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3, SyncReply: 4, Stateless: 5, BroadcastStateless: 6, Close: 7, SyncStatus: 8 } as const;
export const SYNC = { Step1: 0, Step2: 1, Update: 2 } as const;
const AUTH = { Token: 0, PermissionDenied: 1, Authenticated: 2 } as const;

function frame(documentName: string, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, documentName);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

export const frames = {
  auth: (doc: string, token: string) =>
    frame(doc, (e) => {
      encoding.writeVarUint(e, MSG.Auth);
      encoding.writeVarUint(e, AUTH.Token);
      encoding.writeVarString(e, token);
    }),
  sync: (doc: string, syncType: number, payload: Uint8Array, messageType: number = MSG.Sync) =>
    frame(doc, (e) => {
      encoding.writeVarUint(e, messageType);
      encoding.writeVarUint(e, syncType);
      encoding.writeVarUint8Array(e, payload);
    }),
  awareness: (doc: string, payload: Uint8Array) =>
    frame(doc, (e) => {
      encoding.writeVarUint(e, MSG.Awareness);
      encoding.writeVarUint8Array(e, payload);
    }),
  /** A well-formed awareness update with one client and arbitrary JSON text as its state. */
  awarenessState: (doc: string, clientId: number, clock: number, json: string) => {
    const inner = encoding.createEncoder();
    encoding.writeVarUint(inner, 1);
    encoding.writeVarUint(inner, clientId);
    encoding.writeVarUint(inner, clock);
    encoding.writeVarString(inner, json);
    return frames.awareness(doc, encoding.toUint8Array(inner));
  },
  queryAwareness: (doc: string) => frame(doc, (e) => encoding.writeVarUint(e, MSG.QueryAwareness)),
  stateless: (doc: string, payload: string) =>
    frame(doc, (e) => {
      encoding.writeVarUint(e, MSG.Stateless);
      encoding.writeVarString(e, payload);
    }),
  raw: (doc: string, messageType: number, rest: Uint8Array) =>
    frame(doc, (e) => {
      encoding.writeVarUint(e, messageType);
      encoding.writeUint8Array(e, rest);
    }),
};

export type ServerMessage =
  | { type: 'authenticated'; doc: string; scope: string }
  | { type: 'denied'; doc: string; reason: string }
  | { type: 'close'; doc: string; reason: string }
  | { type: 'sync-status'; doc: string; applied: boolean }
  | { type: 'sync'; doc: string; syncType: number; payload: Uint8Array }
  | { type: 'other'; doc: string; messageType: number };

export function parseServerMessage(data: Uint8Array): ServerMessage | null {
  try {
    const decoder = decoding.createDecoder(data);
    const doc = decoding.readVarString(decoder);
    const messageType = decoding.readVarUint(decoder);
    switch (messageType) {
      case MSG.Auth: {
        const sub = decoding.readVarUint(decoder);
        if (sub === AUTH.Authenticated) return { type: 'authenticated', doc, scope: decoding.readVarString(decoder) };
        if (sub === AUTH.PermissionDenied) return { type: 'denied', doc, reason: decoding.readVarString(decoder) };
        return { type: 'other', doc, messageType };
      }
      case MSG.Close:
        return { type: 'close', doc, reason: decoding.readVarString(decoder) };
      case MSG.SyncStatus:
        return { type: 'sync-status', doc, applied: decoding.readVarInt(decoder) === 1 };
      case MSG.Sync:
      case MSG.SyncReply: {
        const syncType = decoding.readVarUint(decoder);
        return { type: 'sync', doc, syncType, payload: decoding.readVarUint8Array(decoder) };
      }
      default:
        return { type: 'other', doc, messageType };
    }
  } catch {
    return null;
  }
}

/** A bare WebSocket speaking the Hocuspocus protocol by hand: what an attacker or a broken client has. */
export class RawClient {
  readonly socket: WebSocket;
  readonly messages: ServerMessage[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly opened: Promise<void>;
  readonly closedPromise: Promise<{ code: number; reason: string }>;

  /** `headers`: extra headers of the upgrade request (a proxy's `X-Forwarded-For`, say). */
  constructor(url: string, parameters: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const query = new URLSearchParams(parameters).toString();
    this.socket = new WebSocket(query ? `${url}?${query}` : url, { headers });
    this.socket.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data: Buffer) => {
      const message = parseServerMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (message) this.messages.push(message);
    });
    this.closedPromise = new Promise((resolve) =>
      this.socket.once('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
      }),
    );
  }

  send(data: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data);
  }

  /** Waits for the first message matching `predicate` (already received ones count). */
  async next<T extends ServerMessage>(predicate: (message: ServerMessage) => message is T, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Sends the auth frame and resolves with the scope, or rejects with the refusal reason. */
  async authenticate(doc: string, token: string): Promise<string> {
    await this.opened;
    this.send(frames.auth(doc, token));
    const answer = await this.next(
      (m): m is Extract<ServerMessage, { type: 'authenticated' | 'denied' }> => (m.type === 'authenticated' || m.type === 'denied') && m.doc === doc,
    );
    if (answer.type === 'denied') throw new Error(answer.reason);
    return answer.scope;
  }

  close(): void {
    this.socket.terminate();
  }
}
