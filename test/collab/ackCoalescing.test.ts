import { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { connectClient, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { typeInto } from '../helpers/typing.ts';
import { describeEachServer } from '../helpers/server.ts';

/** Counts the writes a TCP socket hands to the operating system (one `_write` or `_writev` each). */
function countWrites(socket: Socket): { writes: () => number; chunks: () => number; restore: () => void } {
  const target = socket as Socket & { _write: (...args: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void };
  const { _write: write, _writev: writev } = target;
  let writes = 0;
  let chunks = 0;
  target._write = (...args: unknown[]) => {
    writes += 1;
    chunks += 1;
    write.apply(target, args);
  };
  target._writev = (list: unknown[], cb: unknown) => {
    writes += 1;
    chunks += list.length;
    writev.call(target, list, cb);
  };
  return {
    writes: () => writes,
    chunks: () => chunks,
    restore: () => {
      target._write = write;
      target._writev = writev;
    },
  };
}

describeEachServer('acknowledgements released by one commit', { kinds: ['postgres'] }, ({ db, app }) => {
  let client: TestClient | null = null;

  afterEach(() => client?.destroy());

  it('leave the server in one write per turn, not one write each', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const scene = fixture.sceneIds[0]!;
    client = connectClient(app().wsUrl, scene, { token: await tokenFor(fixture.userId) });
    await waitForSynced(client);
    const [connection] = app().collab.hocuspocus.documents.get(scene)!.getConnections();
    const socket = (connection!.webSocket as unknown as { _socket: unknown })._socket;
    expect(socket).toBeInstanceOf(Socket);
    const counter = countWrites(socket as Socket);
    try {
      const before = client.acks();
      // Keystrokes sent at once arrive together and commit in one or a few batches.
      const burst = 'forty-odd characters typed in one burst';
      typeInto(client.doc, burst);
      await waitForAcked(client);
      const acks = client.acks() - before;
      expect(acks).toBeGreaterThanOrEqual(burst.length);
      // Every acknowledgement went out (a frame is a header chunk and a payload chunk), in far fewer writes.
      expect(counter.chunks()).toBeGreaterThanOrEqual(acks);
      expect(counter.writes()).toBeLessThanOrEqual(acks / 4);
    } finally {
      counter.restore();
    }
  });
});
