import { afterEach, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/server/app.ts';
import { holdAppPorts, holdPort, PortInUseError, type AppPorts } from '../../src/server/heldPorts.ts';
import { silentLogger } from '../../src/logger.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { textOf } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/process.ts';
import { testConfig } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';

const config = testConfig();

/**
 * `npm start` binds its ports before it loads the server (src/main.ts): what arrives before the app
 * is ready waits, and is served once it is, instead of being refused.
 */
describeEachDatabase('ports held until the app serves them', (db) => {
  let clients: TestClient[] = [];
  let app: RunningApp | null = null;
  let ports: AppPorts | null = null;
  afterEach(async () => {
    for (const client of clients) client.destroy();
    clients = [];
    await app?.stop();
    app = null;
    // Ports an app never served are closed here (an app closes its own when it stops).
    if (ports) await Promise.all([ports.ws.close(), ports.http.close()]);
    ports = null;
  });

  it('holds an editor connection and a readiness request that arrive before the app, and serves both once it starts', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    ports = await holdAppPorts(config);

    let readyStatus: number | null = null;
    const ready = fetch(`http://127.0.0.1:${ports.http.port}/api/health/ready`).then((res) => (readyStatus = res.status));
    const editor = connectClient(`ws://127.0.0.1:${ports.ws.port}`, sceneId, { token });
    const onHttpPort = connectClient(`ws://127.0.0.1:${ports.http.port}${config.collabPath}`, sceneId, { token });
    clients.push(editor, onHttpPort);
    // Nothing is answered while the app is not there: both sockets are open and unanswered.
    await waitFor(() => ports!.ws.server.listening && ports!.http.server.listening, 'ports listening');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readyStatus).toBeNull();
    expect(editor.provider.isSynced).toBe(false);

    const held = ports;
    ports = null;
    app = await startApp({ config, prisma: db().prisma, sql: db().database.sql, logger: silentLogger(), ports: held });
    await ready;
    expect(readyStatus).toBe(200);
    await waitForSynced(editor);
    await waitForSynced(onHttpPort);
    typeInto(editor.doc, 'INT. HELD PORT - NIGHT');
    await waitForAcked(editor);
    await waitFor(() => textOf(onHttpPort.doc).includes('INT. HELD PORT - NIGHT'), 'the other editor got the edit');
    expect(app.wsPort).toBe(held.ws.port);
    expect(app.httpPort).toBe(held.http.port);
  });

  it('closes, once served, only after the connections it took: a stopped app leaves both ports closed', async () => {
    ports = await holdAppPorts(config);
    const held = ports;
    ports = null;
    app = await startApp({ config, prisma: db().prisma, sql: db().database.sql, logger: silentLogger(), ports: held });
    await app.stop();
    app = null;
    expect(held.ws.server.listening).toBe(false);
    expect(held.http.server.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${held.http.port}/api/health/live`)).rejects.toThrow();
  });
});

it('a port taken by another process is a clear start failure, and the other port is let go', async () => {
  const taken = await holdPort(0, '127.0.0.1');
  try {
    const wsPort = await freePort();
    const failed = holdAppPorts({ host: '127.0.0.1', port: wsPort, httpPort: taken.port });
    await expect(failed).rejects.toBeInstanceOf(PortInUseError);
    await expect(failed).rejects.toThrow(`127.0.0.1:${taken.port} (HTTP_PORT) is in use by another process; stop it or set HTTP_PORT to a free port`);
    // PORT was bound first; it is free again.
    const again = await holdPort(wsPort, '127.0.0.1');
    await again.close();
  } finally {
    await taken.close();
  }
});
