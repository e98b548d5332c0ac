import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { clientAddress, ConnectionLedger } from '../../src/guards/connectionLimits.ts';
import { MessageAllowance, readFrameHead, SocketFloodGuard, type FloodLimits, type FrameVerdict } from '../../src/guards/floodLimits.ts';
import { frames, MSG, SYNC } from './frames.ts';

const SCENE = '0b6a4b8e-3c51-4d3e-9f42-1d2c3b4a5e6f';
const OTHER = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

const limits: FloodLimits = {
  awareness: { perMinute: 60, capacity: 5 },
  closeAfterMs: 5000,
  maxAwarenessBytes: 200,
  syncStep1: { perMinute: 6, capacity: 2 },
  unauthenticated: { maxBytes: 1000, maxMessages: 10, maxDocuments: 3 },
};

const awareness = (doc = SCENE, clock = 1) => frames.awarenessState(doc, 7, clock, '{"cursor":null}');
const stateless = (doc: string, bytes = 1) => frames.stateless(doc, 'x'.repeat(bytes));
const actions = <D>(verdicts: FrameVerdict<D>[]) => verdicts.map((v) => v.action);

describe('MessageAllowance', () => {
  it('passes the burst, drops what the close-after time holds of the rate, then closes', () => {
    const allowance = new MessageAllowance({ perMinute: 60, capacity: 3 }, 5000, 0);
    expect(Array.from({ length: 9 }, () => allowance.take(0))).toEqual(['pass', 'pass', 'pass', ...Array(5).fill('drop'), 'close']);
  });

  it('never closes before dropping a whole burst, however short the close-after time', () => {
    const allowance = new MessageAllowance({ perMinute: 60, capacity: 3 }, 0, 0);
    expect(Array.from({ length: 7 }, () => allowance.take(0))).toEqual(['pass', 'pass', 'pass', 'drop', 'drop', 'drop', 'close']);
  });

  it('under the defaults, drops a stalled server’s burst of an editor’s caret moves instead of closing the socket', () => {
    const { awareness: limit, closeAfterMs } = loadConfig({}).floods;
    const allowance = new MessageAllowance(limit, closeAfterMs, 0);
    // Ten seconds of typing at 30 keys a second, read at once when the server wakes up.
    const decisions = Array.from({ length: 300 }, () => allowance.take(0));
    expect(decisions).not.toContain('close');
    expect(decisions.filter((d) => d === 'pass')).toHaveLength(limit.capacity);
    // A loop is still closed within a fraction of a second of its flood: 36,000 frames a second.
    const loop = new MessageAllowance(limit, closeAfterMs, 0);
    const closedAt = Array.from({ length: 36_000 }, (_, i) => loop.take(i / 36)).indexOf('close');
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt / 36).toBeLessThan(100);
  });

  it('refills at the rate: one a second at 60 a minute, and says when the next one passes', () => {
    const allowance = new MessageAllowance({ perMinute: 60, capacity: 1 }, 1000, 0);
    expect([allowance.take(0), allowance.take(500)]).toEqual(['pass', 'drop']);
    expect(allowance.nextPassAt(500)).toBe(1000);
    expect(allowance.nextPassAt(1200)).toBe(1200);
    expect(allowance.take(1000)).toBe('pass');
  });

  it('at twice the rate, sustained, drops half and is never closed; above it, is closed', () => {
    const run = (perSecond: number) => {
      const allowance = new MessageAllowance({ perMinute: 60, capacity: 5 }, 5000, 0);
      const decisions = Array.from({ length: perSecond * 60 }, (_, i) => allowance.take((i * 1000) / perSecond));
      return { closed: decisions.includes('close'), dropped: decisions.filter((d) => d === 'drop').length };
    };
    expect(run(2).closed).toBe(false);
    expect(run(2).dropped).toBeGreaterThan(50);
    expect(run(3).closed).toBe(true);
  });
});

describe('readFrameHead', () => {
  it.each([
    ['awareness', awareness(), 'awareness'],
    ['query awareness', frames.queryAwareness(SCENE), 'query-awareness'],
    ['SyncStep1', frames.sync(SCENE, SYNC.Step1, new Uint8Array([0])), 'sync-step-1'],
    ['SyncStep1 as a reply', frames.sync(SCENE, SYNC.Step1, new Uint8Array([0]), MSG.SyncReply), 'sync-step-1'],
    ['an update', frames.sync(SCENE, SYNC.Update, new Uint8Array([0, 0])), 'other'],
    ['authentication', frames.auth(SCENE, 'token'), 'other'],
  ])('%s', (_, frame, kind) => {
    expect(readFrameHead(frame)).toEqual({ address: SCENE, documentName: SCENE, kind });
  });

  it('splits a session address, and gives null for garbage', () => {
    expect(readFrameHead(frames.queryAwareness(`${SCENE}\0session`))).toEqual({ address: `${SCENE}\0session`, documentName: SCENE, kind: 'query-awareness' });
    expect(readFrameHead(new Uint8Array([0xff]))).toBeNull();
  });
});

describe('SocketFloodGuard on a served scene', () => {
  const served = () => {
    const guard = new SocketFloodGuard<string>(limits);
    guard.serve(SCENE, 'connection', 0);
    return guard;
  };

  it('holds awareness over the rate, and closes the socket past twice it; then ignores everything', () => {
    const guard = served();
    const verdicts = Array.from({ length: 12 }, (_, i) => guard.decide(awareness(SCENE, i + 1), 0));
    expect(actions(verdicts)).toEqual([...Array(5).fill('pass'), ...Array(5).fill('hold'), 'close-socket', 'ignore']);
    expect(verdicts[5]).toMatchObject({ at: 1000, refusal: { kind: 'awareness-flood' } });
    const closing = verdicts[10] as Extract<FrameVerdict<string>, { action: 'close-socket' }>;
    expect(closing.refusal).toMatchObject({ kind: 'awareness-flood', code: 4429 });
    expect(closing.refusal.reason).toBe('awareness-flood: awareness sent at over twice the limit of 60 a minute');
    expect(closing.document).toBe('connection');
    expect(guard.decide(stateless(SCENE), 1_000_000).action).toBe('ignore');
    expect(guard.release(1_000_000)).toEqual([]);
    expect(guard.nextReleaseAt(1_000_000)).toBeNull();
  });

  it('gives back the newest held awareness update once the allowance has room, and only once', () => {
    const guard = served();
    for (let clock = 1; clock <= 5; clock += 1) guard.decide(awareness(SCENE, clock), 0);
    expect(guard.nextReleaseAt(0)).toBeNull();
    expect(actions([guard.decide(awareness(SCENE, 6), 0), guard.decide(awareness(SCENE, 7), 0)])).toEqual(['hold', 'hold']);
    expect(guard.nextReleaseAt(0)).toBe(1000);
    expect(guard.release(999)).toEqual([]);
    expect(guard.release(1000)).toEqual([awareness(SCENE, 7)]);
    expect(guard.release(5000)).toEqual([]);
    expect(guard.nextReleaseAt(5000)).toBeNull();
    // The release took the allowance's token: the next update at that moment is over the rate again.
    expect(guard.decide(awareness(SCENE, 8), 1000).action).toBe('hold');
  });

  it('forgets a held update once a newer one passes, or its scene connection closes', () => {
    const guard = served();
    for (let clock = 1; clock <= 6; clock += 1) guard.decide(awareness(SCENE, clock), 0);
    expect(guard.decide(awareness(SCENE, 7), 1000).action).toBe('pass');
    expect(guard.release(10_000)).toEqual([]);
    guard.decide(awareness(SCENE, 8), 1000);
    expect(guard.nextReleaseAt(1000)).toBe(2000);
    guard.closed(SCENE, 'connection');
    expect(guard.release(10_000)).toEqual([]);
  });

  it('does not hold a query for awareness over the rate: it is dropped', () => {
    const guard = served();
    for (let clock = 1; clock <= 5; clock += 1) guard.decide(awareness(SCENE, clock), 0);
    expect(guard.decide(frames.queryAwareness(SCENE), 0).action).toBe('drop');
    expect(guard.nextReleaseAt(0)).toBeNull();
  });

  it('counts queries for awareness against the same allowance', () => {
    const guard = served();
    const verdicts = [...Array.from({ length: 3 }, () => guard.decide(awareness(), 0)), ...Array.from({ length: 3 }, () => guard.decide(frames.queryAwareness(SCENE), 0))];
    expect(actions(verdicts)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'drop']);
  });

  it('limits SyncStep1 on its own allowance, and leaves content and other messages alone', () => {
    const guard = served();
    const step1 = () => guard.decide(frames.sync(SCENE, SYNC.Step1, new Uint8Array([0])), 0);
    for (let i = 0; i < 50; i += 1) expect(guard.decide(frames.sync(SCENE, SYNC.Update, new Uint8Array([0, 0])), 0).action).toBe('pass');
    expect(actions([step1(), step1(), step1(), step1(), step1()])).toEqual(['pass', 'pass', 'drop', 'drop', 'close-socket']);
    const verdict = guard.decide(awareness(), 0);
    expect(verdict.action).toBe('ignore');
  });

  it('closes the scene connection, not the socket, over an awareness update too large', () => {
    const guard = served();
    const big = frames.awarenessState(SCENE, 7, 1, JSON.stringify({ name: 'x'.repeat(300) }));
    const verdict = guard.decide(big, 0);
    expect(verdict).toMatchObject({ action: 'close-document', document: 'connection', refusal: { kind: 'awareness-too-large', code: 4413 } });
    expect((verdict as { refusal: { reason: string } }).refusal.reason).toBe(`awareness-too-large: the awareness update is ${big.byteLength} bytes; the limit is 200`);
    expect(guard.decide(awareness(), 0).action).toBe('pass');
  });

  it('routes a session address to a scene served under its plain name, as Hocuspocus does', () => {
    const guard = served();
    const verdicts = Array.from({ length: 6 }, (_, i) => guard.decide(awareness(`${SCENE}\0session`, i + 1), 0));
    expect(actions(verdicts)).toEqual([...Array(5).fill('pass'), 'hold']);
  });

  it('a scene whose connection closed waits again, with fresh allowances', () => {
    const guard = served();
    for (let i = 0; i < 5; i += 1) guard.decide(awareness(), 0);
    guard.closed(SCENE, 'another connection');
    expect(guard.decide(awareness(), 0).action).toBe('hold');
    guard.closed(SCENE, 'connection');
    expect(guard.decide(awareness(), 0).action).toBe('pass');
  });
});

describe('SocketFloodGuard before a scene is served', () => {
  it('refuses at the byte limit exactly as Hocuspocus counts it (queued + this frame > limit)', () => {
    const guard = new SocketFloodGuard<string>(limits);
    const frame = stateless(SCENE, 240);
    const verdicts = Array.from({ length: 5 }, () => guard.decide(frame, 0));
    const fit = Math.floor(1000 / frame.byteLength);
    expect(actions(verdicts)).toEqual([...Array(fit).fill('pass'), 'close-socket', ...Array(4 - fit).fill('ignore')]);
    expect(verdicts[fit]).toMatchObject({ refusal: { kind: 'unauthenticated-queue-bytes', code: 4413, reason: 'unauthenticated-queue-bytes: more than 1000 bytes sent before authentication' } });
  });

  it('refuses the message over the message limit, counting every scene of the socket', () => {
    const guard = new SocketFloodGuard<string>(limits);
    const verdicts = Array.from({ length: 11 }, (_, i) => guard.decide(stateless(i % 2 ? SCENE : OTHER), 0));
    expect(actions(verdicts)).toEqual([...Array(10).fill('pass'), 'close-socket']);
    expect(verdicts[10]).toMatchObject({ refusal: { kind: 'unauthenticated-queue-messages', code: 4429 } });
  });

  it('refuses the scene over the limit of scenes awaiting authentication', () => {
    const guard = new SocketFloodGuard<string>(limits);
    const names = ['a', 'b', 'c', 'd'].map((letter) => SCENE.replace(/^./, letter));
    const verdicts = names.map((name) => guard.decide(stateless(name), 0));
    expect(actions(verdicts)).toEqual(['pass', 'pass', 'pass', 'close-socket']);
    expect(verdicts[3]).toMatchObject({ refusal: { kind: 'unauthenticated-documents', reason: 'unauthenticated-documents: more than 3 scenes awaiting authentication' } });
  });

  it('forgets what a scene queued once it is served, as Hocuspocus drains its queue', () => {
    const guard = new SocketFloodGuard<string>(limits);
    for (let i = 0; i < 9; i += 1) guard.decide(stateless(SCENE), 0);
    guard.serve(SCENE, 'connection', 0);
    const verdicts = Array.from({ length: 10 }, () => guard.decide(stateless(OTHER), 0));
    expect(actions(verdicts)).toEqual(Array(10).fill('pass'));
  });

  it('applies the allowances before the scene is served, and keeps them when it is', () => {
    const guard = new SocketFloodGuard<string>({ ...limits, unauthenticated: { maxBytes: 100_000, maxMessages: 1000, maxDocuments: 3 } });
    const early = Array.from({ length: 7 }, (_, i) => guard.decide(awareness(SCENE, i + 1), 0));
    expect(actions(early)).toEqual([...Array(5).fill('pass'), 'drop', 'drop']);
    guard.serve(SCENE, 'connection', 0);
    expect(guard.decide(awareness(SCENE, 8), 0).action).toBe('hold');
  });

  it('drops an awareness update too large while there is no scene connection to close', () => {
    const guard = new SocketFloodGuard<string>(limits);
    const verdict = guard.decide(frames.awarenessState(SCENE, 7, 1, 'x'.repeat(300)), 0);
    expect(verdict).toMatchObject({ action: 'drop', document: null, refusal: { kind: 'awareness-too-large' } });
  });
});

describe('ConnectionLedger', () => {
  const ledger = () => new ConnectionLedger<object, string>({ maxConnectionsPerAddress: 2, maxDocumentsPerUser: 3, maxDocumentsPerSocket: 2 });

  it('counts sockets per address and gives the count back when one closes', () => {
    const counts = ledger();
    expect([counts.openSocket('10.0.0.1'), counts.openSocket('10.0.0.1'), counts.openSocket('10.0.0.2')]).toEqual([null, null, null]);
    expect(counts.openSocket('10.0.0.1')).toMatchObject({ code: 'too-many-connections', closeCode: 4429, reason: 'too-many-connections: 2 connections from this address are open' });
    counts.closeSocket('10.0.0.1');
    expect(counts.openSocket('10.0.0.1')).toBeNull();
  });

  it('limits scenes per socket and per user, and admits again once one closes', () => {
    const counts = ledger();
    const [socketA, socketB] = [{}, {}];
    expect(counts.opened(socketA, 'u', 'a1')).toBeNull();
    expect(counts.opened(socketA, 'u', 'a2')).toBeNull();
    expect(counts.admit(socketA, 'u')).toMatchObject({ code: 'too-many-documents' });
    expect(counts.admit(socketB, 'v')).toBeNull();
    expect(counts.opened(socketB, 'u', 'b1')).toBeNull();
    expect(counts.admit(socketB, 'u')).toMatchObject({ code: 'too-many-user-documents', reason: 'too-many-user-documents: you have 3 scenes open on this server; close one first' });
    // Two that passed `admit` together: the second is refused when it connects.
    expect(counts.opened(socketB, 'u', 'b2')).toMatchObject({ code: 'too-many-user-documents' });
    counts.closed(socketA, 'u', 'a1');
    expect(counts.admit(socketA, 'u')).toBeNull();
    expect(counts.admit(socketB, 'u')).toBeNull();
  });
});

describe('clientAddress', () => {
  const request = (remoteAddress: string, forwardedFor?: string) =>
    ({ socket: { remoteAddress }, connection: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

  it.each([
    ['no trusted proxy: the peer, whatever the header says', 0, '10.0.0.9', '1.2.3.4', '10.0.0.9'],
    ['one proxy: the address it saw', 1, '10.0.0.9', '6.6.6.6, 1.2.3.4', '1.2.3.4'],
    ['two proxies', 2, '10.0.0.9', '6.6.6.6, 1.2.3.4, 10.0.0.8', '1.2.3.4'],
    ['more hops than entries: the farthest entry', 3, '10.0.0.9', '1.2.3.4', '1.2.3.4'],
    ['a trusted proxy that sent no header: the proxy', 1, '10.0.0.9', undefined, '10.0.0.9'],
  ])('%s', (_, hops, peer, forwardedFor, expected) => {
    expect(clientAddress(request(peer, forwardedFor), hops)).toBe(expected);
  });
});

describe('refusal reasons', () => {
  it('fit a WebSocket close frame (123 bytes) with the default limits, where a socket is closed over them', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const floods = config.floods;
    const guard = new SocketFloodGuard<string>({ ...floods, unauthenticated: { ...floods.unauthenticated, maxMessages: 1 } });
    guard.serve(SCENE, 'connection', 0);
    const reasons: string[] = [];
    // The burst, then what FLOOD_CLOSE_AFTER_SECONDS holds of the rate, then the one that closes.
    const untilClosed = floods.awareness.capacity + (floods.awareness.perMinute * floods.closeAfterMs) / 60_000 + 1;
    for (let i = 0; i < untilClosed; i += 1) {
      const verdict = guard.decide(awareness(SCENE, i + 1), 0);
      if (verdict.action === 'close-socket') reasons.push(verdict.refusal.reason);
    }
    const waiting = new SocketFloodGuard<string>({ ...floods, unauthenticated: { ...floods.unauthenticated, maxMessages: 1 } });
    waiting.decide(stateless(OTHER), 0);
    const verdict = waiting.decide(stateless(OTHER), 0);
    if (verdict.action === 'close-socket') reasons.push(verdict.refusal.reason);
    const address = new ConnectionLedger<object, string>(floods);
    for (let i = 0; i < floods.maxConnectionsPerAddress; i += 1) address.openSocket('a');
    reasons.push(address.openSocket('a')!.reason);
    expect(reasons).toHaveLength(3);
    for (const reason of reasons) expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  });
});
