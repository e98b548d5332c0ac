import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import type { RunningApp } from '../../src/server/app.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { captureExpectedConsoleErrors, HOOK_REFUSALS, OVERSIZE_FRAME_ERRORS } from '../helpers/console.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/db.ts';
import { textOf } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer, startTestServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { openScene } from '../auth/support.ts';
import { frames, RawClient, SYNC } from '../guards/frames.ts';

const MAX_UPDATE_BYTES = 4096;

/** What an upgrade request to `path` on `port` is answered, and whether the server then closed the socket. */
function upgradeAnswer(port: number, path: string): Promise<{ status: number; body: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', () => reject(new Error(`${path} was upgraded`)));
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      // The response says Connection: close; the socket must end without the client closing it.
      response.socket.once('close', () => resolve({ status: response.statusCode!, body, closedByServer: true }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The collaboration WebSocket on the HTTP port under COLLAB_PATH: the same Hocuspocus instance as
 * PORT, so every hook, guard and close reason applies, and nothing else on that port upgrades.
 */
describeEachServer('the WebSocket on the HTTP port', { kinds: ['postgres'], env: { MAX_UPDATE_BYTES: String(MAX_UPDATE_BYTES) } }, ({ db, app }) => {
  captureExpectedConsoleErrors([...HOOK_REFUSALS, ...OVERSIZE_FRAME_ERRORS]);
  let clients: TestClient[] = [];
  let raws: RawClient[] = [];
  let owner: string;
  let sceneId: string;
  beforeAll(async () => {
    const fixture = await createScript(db().prisma);
    owner = fixture.userId;
    sceneId = fixture.sceneIds[0]!;
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    for (const raw of raws) raw.close();
    clients = [];
    raws = [];
  });
  const client = async (url: string) => {
    const opened = connectClient(url, sceneId, { token: await tokenFor(owner) });
    clients.push(opened);
    return opened;
  };

  it('is served at ws://host:HTTP_PORT/collab, shares documents with PORT, and stores what it acknowledges', async () => {
    expect(app().collabUrl).toBe(`ws://127.0.0.1:${app().httpPort}/collab`);
    const [onHttpPort, onWsPort] = [await client(app().collabUrl), await client(app().wsUrl)];
    await Promise.all([waitForSynced(onHttpPort), waitForSynced(onWsPort)]);
    typeInto(onHttpPort.doc, 'through the HTTP port');
    await waitForAcked(onHttpPort);
    await waitFor(() => textOf(onWsPort.doc).includes('through the HTTP port'), 'the PORT client sees the edit');
    typeInto(onWsPort.doc, ' and back');
    await waitFor(() => textOf(onHttpPort.doc).includes('and back'), 'the HTTP-port client sees the PORT edit');
    const stored = new Y.Doc();
    Y.applyUpdate(stored, replayUpdates(await app().sceneLog.load(sceneId)).state);
    expect(textOf(stored)).toContain('through the HTTP port');
  });

  it('runs the same hooks: the schema gate and authentication refuse with the same reasons', async () => {
    const reasonOf = async (url: string, token: string, parameters: Record<string, string> | undefined) => {
      const opened = openScene(url, sceneId, token, parameters ? { parameters } : {});
      clients.push(opened.client);
      const outcome = await opened.outcome;
      return outcome.ok ? `ok ${outcome.scope}` : outcome.reason;
    };
    const token = await tokenFor(owner);
    for (const [tokenUsed, parameters] of [[token, {}], ['not-a-jwt', undefined], [token, undefined]] as const) {
      const [http, ws] = [await reasonOf(app().collabUrl, tokenUsed, parameters), await reasonOf(app().wsUrl, tokenUsed, parameters)];
      expect(http).toBe(ws);
    }
    expect(await reasonOf(app().collabUrl, token, {})).toMatch(/^outdated-editor: the client sent no screenplay schema version/);
    expect(await reasonOf(app().collabUrl, token, undefined)).toBe('ok read-write');
  });

  it('applies the socket layer limit of PORT (maxPayload): an over-large frame closes that socket with 1009', async () => {
    const raw = new RawClient(app().collabUrl, { schemaVersion: '1' });
    raws.push(raw);
    expect(await raw.authenticate(sceneId, await tokenFor(owner))).toBe('read-write');
    raw.send(frames.sync(sceneId, SYNC.Update, new Uint8Array(2 * MAX_UPDATE_BYTES + 8192)));
    expect((await raw.closedPromise).code).toBe(1009);
  });

  it('refuses upgrades on every other path with a 404 and closes the socket', async () => {
    for (const path of ['/', '/collab/x', '/collabs', '/api/health/live', '/Collab?schemaVersion=1']) {
      const answer = await upgradeAnswer(app().httpPort, path);
      expect(answer, path).toMatchObject({ status: 404, closedByServer: true });
      expect(answer.body).toContain('/collab');
    }
    // The HTTP API on the same port is untouched.
    expect((await fetch(`${app().httpUrl}/api/health/live`)).status).toBe(200);
  });
});

describeEachServer('the WebSocket on the HTTP port counts in the connection limits', { kinds: ['postgres'], env: { MAX_CONNECTIONS_PER_ADDRESS: '2' } }, ({ db, app }) => {
  captureExpectedConsoleErrors();
  it('counts its sockets with those on PORT (the onUpgrade hooks run) and refuses one more with 4429', async () => {
    const { userId, sceneIds } = await createScript(db().prisma);
    const token = await tokenFor(userId);
    const first = connectClient(app().wsUrl, sceneIds[0]!, { token });
    const second = connectClient(app().collabUrl, sceneIds[0]!, { token });
    try {
      await Promise.all([waitForSynced(first), waitForSynced(second)]);
      const third = new RawClient(app().collabUrl, { schemaVersion: '1' });
      expect(await third.closedPromise).toEqual({ code: 4429, reason: expect.stringMatching(/^too-many-connections: /) });
    } finally {
      first.destroy();
      second.destroy();
    }
  });
});

describeEachDatabase('stopping a server whose HTTP port carries WebSockets', { kinds: ['postgres'] }, (database) => {
  captureExpectedConsoleErrors();
  let db: TestDatabase;
  beforeAll(() => {
    db = database();
  });

  it('closes them (served or not yet authenticated), commits what was acknowledged, and resolves', async () => {
    const app: RunningApp = await startTestServer(db);
    const { userId, sceneIds } = await createScript(db.prisma);
    const writer = connectClient(app.collabUrl, sceneIds[0]!, { token: await tokenFor(userId) });
    // A socket that never authenticates: Hocuspocus does not close it, the HTTP server must.
    const silent = new WebSocket(`${app.collabUrl}?schemaVersion=1`);
    silent.on('error', () => undefined);
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    try {
      await waitForSynced(writer);
      await new Promise<void>((resolve) => (silent.readyState === WebSocket.OPEN ? resolve() : silent.once('open', () => resolve())));
      typeInto(writer.doc, 'before the stop');
      await waitForAcked(writer);
      const writerClosed = new Promise<void>((resolve) => writer.socket.on('disconnect', () => resolve()));
      writer.socket.shouldConnect = false;
      const stopped = app.stop().then(() => 'stopped');
      const deadline = new Promise((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000).unref());
      expect(await Promise.race([stopped, deadline])).toBe('stopped');
      await Promise.all([writerClosed, silentClosed]);
      // Nothing listens on the HTTP port any more.
      await expect(
        new Promise((resolve, reject) => connect(app.httpPort, '127.0.0.1').once('connect', resolve).once('error', reject)),
      ).rejects.toThrow(/ECONNREFUSED/);
      const stored = new Y.Doc();
      Y.applyUpdate(stored, replayUpdates(await new SceneLog(db.database.sql).load(sceneIds[0]!)).state);
      expect(textOf(stored)).toContain('before the stop');
    } finally {
      writer.destroy();
      silent.terminate();
      await app.stop();
    }
  });
});
