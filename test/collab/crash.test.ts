import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { connectClient, waitFor, waitForAcked, waitForSynced } from '../helpers/clients.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { TEST_AUTH_ENV, tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';
import { soakOr } from '../helpers/soak.ts';
import { MarkerWriter, paragraphs } from '../helpers/writer.ts';

/**
 * Kills per database. Each round is a check of its own (a SIGKILL at a random moment after an
 * acknowledgement, a restart, the stored words compared with what was typed and acknowledged), so
 * the count is how many random moments in the 400 ms after an acknowledgement are tried, not
 * which paths run; three per database (six in all) keep the suite inside its time budget on a
 * loaded 2-core machine, each round starting a server process (seconds there). `SOAK=1` runs 20
 * for more moments; `CRASH_KILLS` sets the count outright.
 */
const KILLS = Number(process.env.CRASH_KILLS ?? soakOr(3, 20));
const WRITERS = 3;
const BURST = 8;

describe.each(['postgres', 'pglite'] as const)('crash safety on %s (SIGKILL under typing)', (kind) => {
  let db: TestDatabase;
  let sceneId: string;
  let token: string;
  let env: Record<string, string>;
  let wsPort: number;
  let httpPort: number;
  let server: ServerProcess | null = null;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const fixture = await createScript(db.prisma);
    sceneId = fixture.sceneIds[0]!;
    token = await tokenFor(fixture.userId, { ttlSeconds: 3600 });
    wsPort = await freePort();
    httpPort = await freePort();
    env = { ...TEST_AUTH_ENV, PORT: String(wsPort), HTTP_PORT: String(httpPort) };
    if (kind === 'postgres') {
      env.DATABASE_URL = db.databaseUrl!;
    } else {
      // PGlite belongs to one process: the server child takes the directory over.
      env.DATA_DIR = db.dataDir!;
      await db.release();
    }
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    await db?.close();
  });

  async function start(): Promise<void> {
    server = spawnServer(env);
    await waitUntilReady(httpPort, server);
  }

  async function kill(): Promise<void> {
    server!.child.kill('SIGKILL');
    await server!.exited;
    server = null;
  }

  /** The words of each writer's paragraph as a fresh client loads them from the server. */
  async function readStored(url: string): Promise<string[][]> {
    const reader = connectClient(url, sceneId, { token });
    try {
      await waitForSynced(reader);
      return paragraphs(reader.doc).map((p) => p.split(' ').filter(Boolean));
    } finally {
      reader.destroy();
    }
  }

  it(`keeps every acknowledged update across ${KILLS} kills`, async () => {
    await start();
    const url = `ws://127.0.0.1:${wsPort}`;
    const writers = Array.from({ length: WRITERS }, (_, i) => new MarkerWriter(i, connectClient(url, sceneId, { token, persistent: true }), { burst: BURST }));
    try {
      const first = writers[0]!.client;
      await waitForSynced(first);
      first.doc.transact(() => {
        for (let i = 0; i < WRITERS; i += 1) {
          const p = new Y.XmlElement('paragraph');
          p.insert(0, [new Y.XmlText('')]);
          first.doc.getXmlFragment('default').insert(i, [p]);
        }
      });
      await waitForAcked(first);
      await Promise.all(writers.map((w) => waitFor(() => paragraphs(w.client.doc).length === WRITERS, 'paragraphs reach every writer')));
      writers.forEach((w) => w.start());

      for (let round = 0; round < KILLS; round += 1) {
        // Kill at a random moment, but only once this round has acknowledged something, so every
        // round tests acknowledged words even on a slow, loaded machine.
        const before = writers.map((w) => w.confirmed);
        await waitFor(() => writers.some((w, i) => w.confirmed > before[i]!), 'an acknowledgement in this round', 30_000);
        await new Promise((r) => setTimeout(r, Math.random() * 400));
        await kill();
        // The writers keep what they typed but may not resend it yet: what the restarted server
        // serves must come from the log alone.
        writers.forEach((w) => {
          w.stop();
          w.client.socket.disconnect();
        });
        const acknowledged = writers.map((w) => w.confirmed);
        await start();

        const stored = await readStored(url);
        for (const w of writers) {
          const words = stored[w.index]!;
          // A prefix of what was typed, each word once, and at least everything acknowledged.
          expect(words).toEqual(Array.from({ length: words.length }, (_, n) => w.marker(n + 1).trim()));
          expect(words.length).toBeGreaterThanOrEqual(acknowledged[w.index]!);
        }

        await Promise.all(writers.map((w) => w.client.socket.connect()));
        writers.forEach((w) => w.start());
      }

      // After reconnecting, the writers resend what the log lacks and everyone converges.
      writers.forEach((w) => w.stop());
      await Promise.all(writers.map((w) => waitForAcked(w.client, 30_000)));
      const final = await readStored(url);
      for (const w of writers) {
        expect(final[w.index]).toEqual(Array.from({ length: w.typed }, (_, n) => w.marker(n + 1).trim()));
        expect(paragraphs(w.client.doc)).toEqual(final.map((words) => words.map((word) => `${word} `).join('')));
      }
    } finally {
      writers.forEach((w) => {
        w.stop();
        w.client.destroy();
      });
    }
  }, 300_000);
});
