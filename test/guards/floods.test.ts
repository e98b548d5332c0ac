import { randomUUID } from 'node:crypto';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startApp, type RunningApp } from '../../src/server/app.ts';
import { tokenFor } from '../helpers/auth.ts';
import { CURRENT_EDITOR, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { captureExpectedConsoleErrors, HOOK_REFUSALS } from '../helpers/console.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/db.ts';
import { textOf } from '../helpers/documents.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { capturingLogger } from '../helpers/logger.ts';
import { counterValue } from '../helpers/metrics.ts';
import { describeEachServer, testConfig } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { closeReasons, openScene } from '../auth/support.ts';
import { frames, RawClient, SYNC, type ServerMessage } from './frames.ts';

/** Tight limits, so that a handful of frames reaches each; every honest client here stays far below them. */
const FLOOD_ENV = {
  RATE_LIMIT_AWARENESS_PER_MINUTE: '60',
  RATE_LIMIT_AWARENESS_BURST: '10',
  MAX_AWARENESS_BYTES: '2048',
  RATE_LIMIT_SYNC_STEP1_PER_MINUTE: '6',
  RATE_LIMIT_SYNC_STEP1_BURST: '5',
  UNAUTHENTICATED_QUEUE_BYTES: '20000',
  UNAUTHENTICATED_QUEUE_MESSAGES: '50',
  UNAUTHENTICATED_DOCUMENTS: '5',
};
/** What Hocuspocus prints when it enforces its own queue limits; the guards must get there first. */
const HOCUSPOCUS_QUEUE_WARNING = /^Hocuspocus: closing connection/;

const isClose = (m: ServerMessage): m is Extract<ServerMessage, { type: 'close' }> => m.type === 'close';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface FloodServer {
  app: RunningApp;
  logs: Array<Record<string, unknown>>;
  stop: () => Promise<void>;
}

/** A real server on the suite's database, with a logger the test reads. */
async function startFloodServer(db: TestDatabase, env: Record<string, string>): Promise<FloodServer> {
  const { logger, entries } = capturingLogger('info');
  const app = await startApp({ config: testConfig(env), prisma: db.prisma, sql: db.database.sql, logger });
  return { app, logs: entries, stop: () => app.stop() };
}

/** Real clients of one test, destroyed after it. */
function clientsOf(url: () => string) {
  let providers: TestClient[] = [];
  let raws: RawClient[] = [];
  return {
    open: async (scene: string, userId: string, expectedScope = 'read-write') => {
      const opened = openScene(url(), scene, await tokenFor(userId));
      providers.push(opened.client);
      expect(await opened.outcome).toEqual({ ok: true, scope: expectedScope });
      await waitForSynced(opened.client);
      return opened.client;
    },
    attempt: (scene: string, token: string) => {
      const opened = openScene(url(), scene, token);
      providers.push(opened.client);
      return opened;
    },
    raw: (headers: Record<string, string> = {}) => {
      const client = new RawClient(url(), CURRENT_EDITOR, headers);
      raws.push(client);
      return client;
    },
    closeAll: () => {
      for (const client of providers) client.destroy();
      for (const client of raws) client.close();
      providers = [];
      raws = [];
    },
  };
}

describeEachDatabase('flood guards', (db) => {
  const consoleCapture = captureExpectedConsoleErrors([...HOOK_REFUSALS, HOCUSPOCUS_QUEUE_WARNING]);
  let server: FloodServer;
  const clients = clientsOf(() => server.app.wsUrl);
  let owner: string;
  let editor: string;
  let viewer: string;
  const newScene = async () => {
    const { sceneIds, scriptId } = await createScript(db().prisma, { ownerId: owner });
    await db().prisma.scriptCollaborator.createMany({
      data: [
        { scriptId, userId: editor, role: 'editor' },
        { scriptId, userId: viewer, role: 'viewer' },
      ],
    });
    return sceneIds[0]!;
  };
  const updatesStored = async (sceneId: string) =>
    (await db().prisma.sceneVersion.findMany({ where: { sceneId }, select: { compactedCount: true } })).reduce((sum, row) => sum + row.compactedCount, 0);
  const refused = (counter: 'messagesRefused' | 'socketsRefused' | 'connectionsRefused', reason: string) =>
    counterValue(server.app.metrics[counter], { reason });
  const logged = (message: string, reason: RegExp) => server.logs.some((entry) => entry.msg === message && reason.test(String(entry.reason)));

  beforeAll(async () => {
    server = await startFloodServer(db(), FLOOD_ENV);
    [owner, editor, viewer] = [await createUser(db().prisma), await createUser(db().prisma), await createUser(db().prisma)];
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(() => clients.closeAll());

  it('drops a viewer flooding awareness, then closes its socket; the writers of the scene lose no update', async () => {
    const scene = await newScene();
    const writer = await clients.open(scene, editor);
    const peer = await clients.open(scene, owner);
    const storedBefore = await updatesStored(scene);
    const flooder = clients.raw();
    expect(await flooder.authenticate(scene, await tokenFor(viewer))).toBe('readonly');
    const flooderId = 4242;
    let flooderStatesSeen = 0;
    peer.provider.awareness!.on('change', ({ added, updated }: { added: number[]; updated: number[] }) => {
      if ([...added, ...updated].includes(flooderId)) flooderStatesSeen += 1;
    });
    const [droppedBefore, closedBefore] = [await refused('messagesRefused', 'awareness-flood'), await refused('socketsRefused', 'awareness-flood')];

    // Within the limit, the viewer's state reaches the peer. Alone and awaited: sent in one read
    // with the flood, it would be broadcast after the close had already removed it.
    let clock = 1;
    flooder.send(frames.awarenessState(scene, flooderId, clock, JSON.stringify({ cursor: { anchor: clock } })));
    await waitFor(() => flooderStatesSeen > 0, "the viewer's first awareness state reaches the peer");

    // Keystrokes and the flood interleaved, frame by frame on the wire.
    const KEYSTROKES = 60;
    const FLOOD_PER_KEYSTROKE = 30;
    for (let i = 0; i < KEYSTROKES; i += 1) {
      typeInto(writer.doc, 'abcdefghij'[i % 10]!);
      for (let j = 0; j < FLOOD_PER_KEYSTROKE; j += 1) {
        clock += 1;
        flooder.send(frames.awarenessState(scene, flooderId, clock, JSON.stringify({ cursor: { anchor: clock } })));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }

    const closed = await flooder.closedPromise;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toBe('awareness-flood: awareness sent at over twice the limit of 60 a minute');
    await waitForAcked(writer);
    await waitFor(() => textOf(peer.doc) === textOf(writer.doc), 'every keystroke reaches the peer');
    expect(textOf(writer.doc)).toContain('abcdefghij'.repeat(KEYSTROKES / 10));
    expect(await updatesStored(scene)).toBe(storedBefore + KEYSTROKES);
    // The first state reached the peer; the rest of the 1,800 never did.
    expect(flooderStatesSeen).toBeGreaterThan(0);
    expect(flooderStatesSeen).toBeLessThan(50);
    expect(await refused('messagesRefused', 'awareness-flood')).toBeGreaterThanOrEqual(droppedBefore + 10);
    expect(await refused('socketsRefused', 'awareness-flood')).toBe(closedBefore + 1);
    expect(logged('socket closed: flood', /^awareness-flood: /)).toBe(true);
    expect(logged('messages over their rate dropped (logged once per scene connection)', /^awareness-flood: /)).toBe(true);
  });

  it('takes an editor’s caret moves read all at once (a stalled server) for a burst, not a flood: nothing closed, the newest caret arrives', async () => {
    const scene = await newScene();
    const peer = await clients.open(scene, owner);
    const writer = await clients.open(scene, editor);
    const [droppedBefore, closedBefore] = [await refused('messagesRefused', 'awareness-flood'), await refused('socketsRefused', 'awareness-flood')];
    // Half as many again as the burst, sent in one go: the rest of the burst (the provider spent two
    // on connecting) passes, the others are over the rate of 60 a minute and below the 10 s of it
    // that closes a socket.
    const MOVES = 15;
    for (let anchor = 1; anchor <= MOVES; anchor += 1) writer.provider.awareness!.setLocalStateField('cursor', { anchor });
    const peerSees = () => (peer.provider.awareness!.getStates().get(writer.doc.clientID) as { cursor?: { anchor: number } } | undefined)?.cursor?.anchor;
    await waitFor(() => peerSees() === MOVES, 'the newest caret position reaches the peer');
    expect(await refused('messagesRefused', 'awareness-flood')).toBeGreaterThan(droppedBefore);
    expect(await refused('socketsRefused', 'awareness-flood')).toBe(closedBefore);
    expect(writer.socket.status).toBe('connected');
    typeInto(writer.doc, 'still typing');
    await waitForAcked(writer);
  });

  it('closes the scene connection of a provider whose awareness state is over the size limit, and relays none of it', async () => {
    const scene = await newScene();
    const peer = await clients.open(scene, owner);
    const big = await clients.open(scene, editor);
    const reasons = closeReasons(big.provider);
    const before = await refused('messagesRefused', 'awareness-too-large');
    big.provider.awareness!.setLocalStateField('user', { name: 'x'.repeat(3000) });
    await waitFor(() => reasons.length > 0, 'the provider reports the refusal');
    expect(reasons[0]).toMatch(/^awareness-too-large: the awareness update is \d+ bytes; the limit is 2048$/);
    expect(await refused('messagesRefused', 'awareness-too-large')).toBe(before + 1);
    expect(logged('scene connection closed: message refused', /^awareness-too-large: /)).toBe(true);
    // Only that scene connection ended: the socket stays, and the peer never saw the state.
    expect(big.socket.status).toBe('connected');
    const state = peer.provider.awareness!.getStates().get(big.doc.clientID) as { user?: unknown } | undefined;
    expect(state?.user).toBeUndefined();
    typeInto(peer.doc, 'still editing');
    await waitForAcked(peer);
  });

  it('closes the socket of a client flooding sync requests', async () => {
    const scene = await newScene();
    const client = clients.raw();
    expect(await client.authenticate(scene, await tokenFor(editor))).toBe('read-write');
    const before = await refused('socketsRefused', 'sync-flood');
    const stateVector = Y.encodeStateVector(new Y.Doc());
    for (let i = 0; i < 50; i += 1) client.send(frames.sync(scene, SYNC.Step1, stateVector));
    const closed = await client.closedPromise;
    expect(closed).toEqual({ code: 4429, reason: 'sync-flood: sync requests at over twice the limit of 6 a minute' });
    expect(await refused('socketsRefused', 'sync-flood')).toBe(before + 1);
    expect(await refused('messagesRefused', 'sync-flood')).toBeGreaterThanOrEqual(5);
  });

  it.each([
    {
      limit: 'unauthenticated-queue-bytes',
      code: 4413,
      reason: 'unauthenticated-queue-bytes: more than 20000 bytes sent before authentication',
      send: (client: RawClient, scene: string) => {
        for (let i = 0; i < 30; i += 1) client.send(frames.stateless(scene, 'x'.repeat(1000)));
      },
    },
    {
      limit: 'unauthenticated-queue-messages',
      code: 4429,
      reason: 'unauthenticated-queue-messages: more than 50 messages sent before authentication',
      send: (client: RawClient, scene: string) => {
        for (let i = 0; i < 60; i += 1) client.send(frames.stateless(scene, 'x'));
      },
    },
    {
      limit: 'unauthenticated-documents',
      code: 4429,
      reason: 'unauthenticated-documents: more than 5 scenes awaiting authentication',
      send: (client: RawClient) => {
        for (let i = 0; i < 6; i += 1) client.send(frames.stateless(randomUUID(), 'x'));
      },
    },
  ])('closes a socket over $limit before authentication, with its own reason rather than Hocuspocus’s', async ({ limit, code, reason, send }) => {
    const scene = await newScene();
    const before = await refused('socketsRefused', limit);
    const client = clients.raw();
    await client.opened;
    send(client, scene);
    expect(await client.closedPromise).toEqual({ code, reason });
    expect(await refused('socketsRefused', limit)).toBe(before + 1);
    expect(logged('socket closed: flood', new RegExp(`^${limit}: `))).toBe(true);
    expect(consoleCapture.messages().filter((message) => HOCUSPOCUS_QUEUE_WARNING.test(message))).toEqual([]);
  });

  it('lets a client that sends a little before its answer in, within the same limits', async () => {
    const scene = await newScene();
    const client = clients.raw();
    await client.opened;
    for (let i = 0; i < 20; i += 1) client.send(frames.stateless(scene, 'early'));
    expect(await client.authenticate(scene, await tokenFor(editor))).toBe('read-write');
    expect(client.closed).toBeNull();
  });
});

describeEachDatabase('connection limits', (db) => {
  captureExpectedConsoleErrors();
  let server: FloodServer | null = null;
  const clients = clientsOf(() => server!.app.wsUrl);
  let fixture: { userId: string; scriptId: string; sceneIds: string[] };
  const start = async (env: Record<string, string>) => {
    server = await startFloodServer(db(), env);
    return server;
  };
  const refused = (counter: 'socketsRefused' | 'connectionsRefused', reason: string) => counterValue(server!.app.metrics[counter], { reason });
  /** Opens a raw socket: `refused` with its close when the server closes it at once, else authenticated. */
  const tryRaw = async (headers: Record<string, string> = {}) => {
    const client = clients.raw(headers);
    const outcome = await Promise.race([
      client.closedPromise.then((closed) => ({ refused: closed })),
      client.authenticate(fixture.sceneIds[0]!, await tokenFor(fixture.userId)).then(() => ({ refused: null })),
    ]);
    return { client, ...outcome };
  };

  beforeAll(async () => {
    fixture = await createScript(db().prisma, { scenes: 4 });
  });
  afterEach(async () => {
    clients.closeAll();
    await server?.stop();
    server = null;
  });

  it('refuses a socket over the per-address limit as it opens, and counts a socket only while it is open', async () => {
    await start({ MAX_CONNECTIONS_PER_ADDRESS: '3' });
    const open = [await tryRaw(), await tryRaw(), await tryRaw()];
    expect(open.map((o) => o.refused)).toEqual([null, null, null]);
    const fourth = await tryRaw();
    expect(fourth.refused).toEqual({ code: 4429, reason: 'too-many-connections: 3 connections from this address are open' });
    expect(await refused('socketsRefused', 'too-many-connections')).toBe(1);
    expect(server!.logs.some((entry) => entry.msg === 'socket refused' && entry.address === '127.0.0.1')).toBe(true);

    open[0]!.client.close();
    // The count is given back when the server sees the TCP socket close.
    let admitted = false;
    for (let attempt = 0; attempt < 100 && !admitted; attempt += 1) {
      admitted = (await tryRaw()).refused === null;
      if (!admitted) await sleep(20);
    }
    expect(admitted).toBe(true);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    await start({ MAX_CONNECTIONS_PER_ADDRESS: '2' });
    const spoofed = [await tryRaw({ 'X-Forwarded-For': '10.0.0.1' }), await tryRaw({ 'X-Forwarded-For': '10.0.0.2' }), await tryRaw({ 'X-Forwarded-For': '10.0.0.3' })];
    expect(spoofed.map((o) => o.refused?.code ?? null)).toEqual([null, null, 4429]);
    clients.closeAll();
    await server!.stop();

    await start({ MAX_CONNECTIONS_PER_ADDRESS: '2', TRUST_PROXY_HOPS: '1' });
    const office = [await tryRaw({ 'X-Forwarded-For': '10.0.0.1' }), await tryRaw({ 'X-Forwarded-For': '10.0.0.1' }), await tryRaw({ 'X-Forwarded-For': '10.0.0.1' })];
    expect(office.map((o) => o.refused?.code ?? null)).toEqual([null, null, 4429]);
    expect((await tryRaw({ 'X-Forwarded-For': '6.6.6.6, 10.0.0.2' })).refused).toBeNull();
  });

  it('refuses a scene over the per-user limit before it is loaded; another user is not affected; a closed scene gives its place back', async () => {
    await start({ MAX_DOCUMENTS_PER_USER: '3' });
    const owner = fixture.userId;
    const opened = [];
    for (const scene of fixture.sceneIds.slice(0, 3)) opened.push(await clients.open(scene, owner));
    const fourth = clients.attempt(fixture.sceneIds[3]!, await tokenFor(owner));
    expect(await fourth.outcome).toEqual({ ok: false, reason: 'too-many-user-documents: you have 3 scenes open on this server; close one first' });
    expect(await refused('connectionsRefused', 'too-many-user-documents')).toBe(1);
    expect(server!.logs.some((entry) => entry.msg === 'connection refused: limit' && entry.userId === owner)).toBe(true);

    const other = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId: fixture.scriptId, userId: other, role: 'editor' } });
    await clients.open(fixture.sceneIds[3]!, other);

    opened[0]!.destroy();
    let admitted = false;
    for (let attempt = 0; attempt < 100 && !admitted; attempt += 1) {
      const retry = clients.attempt(fixture.sceneIds[3]!, await tokenFor(owner));
      admitted = (await retry.outcome).ok;
      if (!admitted) {
        retry.client.destroy();
        await sleep(20);
      }
    }
    expect(admitted).toBe(true);
  });

  it('refuses a scene over the per-socket limit, on that socket only', async () => {
    await start({ MAX_DOCUMENTS_PER_SOCKET: '2' });
    const token = await tokenFor(fixture.userId);
    const client = clients.raw();
    expect(await client.authenticate(fixture.sceneIds[0]!, token)).toBe('read-write');
    expect(await client.authenticate(fixture.sceneIds[1]!, token)).toBe('read-write');
    await expect(client.authenticate(fixture.sceneIds[2]!, token)).rejects.toThrow('too-many-documents: this connection has 2 scenes open; close one first');
    expect(client.closed).toBeNull();
    expect(await refused('connectionsRefused', 'too-many-documents')).toBe(1);
    const another = clients.raw();
    expect(await another.authenticate(fixture.sceneIds[2]!, token)).toBe('read-write');
  });
});

describeEachServer('the default limits and an honest editor', ({ db, app }) => {
  const SCENES = 120;
  let socket: HocuspocusProviderWebsocket | null = null;
  let providers: HocuspocusProvider[] = [];
  afterAll(() => {
    for (const provider of providers) provider.destroy();
    socket?.destroy();
  });

  it('serves a 120-scene script on one socket, with presence and typing in every scene, and refuses nothing', async () => {
    const { userId, sceneIds } = await createScript(db().prisma, { scenes: SCENES });
    const token = await tokenFor(userId);
    const query = new URLSearchParams(CURRENT_EDITOR).toString();
    socket = new HocuspocusProviderWebsocket({ url: `${app().wsUrl}?${query}`, delay: 50, minDelay: 20, maxAttempts: 3 });
    const docs = sceneIds.map(() => new Y.Doc());
    const failures: string[] = [];
    let closes = 0;
    socket.on('close', () => (closes += 1));
    // Every provider attaches at once, as a page opening the whole script does.
    providers = sceneIds.map((name, i) => {
      const provider = new HocuspocusProvider({ websocketProvider: socket!, name, document: docs[i]!, token, onAuthenticationFailed: ({ reason }) => failures.push(reason) });
      provider.attach();
      return provider;
    });
    await waitFor(() => failures.length > 0 || providers.every((p) => p.isSynced), 'every scene syncs', 60_000);
    expect(failures).toEqual([]);
    for (const [i, provider] of providers.entries()) {
      provider.awareness!.setLocalStateField('user', { name: 'Writer', color: '#3366ff' });
      typeInto(docs[i]!, `scene ${i}`);
    }
    await waitFor(() => providers.every((p) => p.isSynced && !p.hasUnsyncedChanges), 'every keystroke acknowledged', 60_000);
    expect(closes).toBe(0);
    const metrics = app().metrics;
    expect(await counterValue(metrics.messagesRefused)).toBe(0);
    expect(await counterValue(metrics.socketsRefused)).toBe(0);
    expect(await counterValue(metrics.connectionsRefused)).toBe(0);
  });
});
