import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { TEST_AUTH_ENV, tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced } from '../helpers/clients.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { freePort, spawnServer, waitUntilReady } from '../helpers/process.ts';

function words(doc: Y.Doc): string[] {
  const paragraph = doc.getXmlFragment('default').get(0) as Y.XmlElement | undefined;
  return paragraph ? (paragraph.get(0) as Y.XmlText).toString().split(' ').filter(Boolean) : [];
}

describeEachDatabase('graceful shutdown', { kinds: ['postgres'] }, (db) => {
  it('commits every acknowledged update and exits 0 on SIGTERM; the unacknowledged rest arrives once after reconnecting', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const [port, httpPort] = [await freePort(), await freePort()];
    const env = { ...TEST_AUTH_ENV, DATABASE_URL: db().databaseUrl!, PORT: String(port), HTTP_PORT: String(httpPort) };
    const url = `ws://127.0.0.1:${port}`;

    const server = spawnServer(env);
    await waitUntilReady(httpPort, server);
    const writer = connectClient(url, sceneId, { token });
    await waitForSynced(writer);
    writer.doc.transact(() => {
      const p = new Y.XmlElement('paragraph');
      p.insert(0, [new Y.XmlText('')]);
      writer.doc.getXmlFragment('default').insert(0, [p]);
    });
    await waitForAcked(writer);

    let typed = 0;
    let confirmed = 0;
    writer.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number === 0) confirmed = typed;
    });
    const timer = setInterval(() => {
      if (!writer.provider.isSynced) return;
      const text = (writer.doc.getXmlFragment('default').get(0) as Y.XmlElement).get(0) as Y.XmlText;
      typed += 1;
      text.insert(text.length, `t${typed} `);
    }, 3);
    await waitFor(() => typed >= 50 && confirmed >= 10, 'some typing acknowledged');

    server.child.kill('SIGTERM');
    const exitCode = await server.exited;
    clearInterval(timer);
    writer.socket.disconnect();
    expect(exitCode).toBe(0);

    const restarted = spawnServer(env);
    try {
      await waitUntilReady(httpPort, restarted);
      const reader = connectClient(url, sceneId, { token });
      await waitForSynced(reader);
      const stored = words(reader.doc);
      reader.destroy();
      expect(stored.length).toBeGreaterThanOrEqual(confirmed);
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => `t${i + 1}`));

      // The writer reconnects and its unacknowledged words reach the log exactly once.
      await writer.socket.connect();
      await waitForAcked(writer, 20_000);
      const after = connectClient(url, sceneId, { token });
      await waitForSynced(after);
      expect(words(after.doc)).toEqual(Array.from({ length: typed }, (_, i) => `t${i + 1}`));
      after.destroy();
    } finally {
      writer.destroy();
      restarted.child.kill('SIGKILL');
      await restarted.exited;
    }
  }, 60_000);
});
