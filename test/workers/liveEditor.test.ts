import { afterAll, expect, it } from 'vitest';
import { compactScene } from '../../src/log/compaction.ts';
import { silentLogger } from '../../src/logger.ts';
import { SnapshotService } from '../../src/restCopy/snapshots.ts';
import { inlineYjsWork, YjsWorkerPool, type YjsWork } from '../../src/workers/pool.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { textOf } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { storeRows, typedParagraphs } from './support.ts';

/**
 * While the pool works on a large scene, the event loop keeps serving an editor of another scene:
 * its updates are stored, acknowledged and broadcast during the work. Counted, not timed: the
 * acknowledgements that arrive between handing the work to the pool and getting its result. The
 * same work on this thread is the control: a synchronous replay lets no acknowledgement in.
 */

/** Updates in the large scene: its replay takes the pool far longer than one round trip of an editor. */
const LARGE = 40_000;
/** The control's scene: any size shows it, since no event is handled during a synchronous replay. */
const CONTROL = 5_000;

interface Editor {
  writer: TestClient;
  watcher: TestClient;
  /** Stops typing and waits until everything typed is acknowledged and reached the watcher. */
  finish(): Promise<void>;
}

/** An editor that keeps four keystrokes in flight, typing the next one as each is acknowledged. */
async function typingEditor(wsUrl: string, sceneId: string, token: string, clients: TestClient[]): Promise<Editor> {
  const writer = connectClient(wsUrl, sceneId, { token });
  const watcher = connectClient(wsUrl, sceneId, { token });
  clients.push(writer, watcher);
  await Promise.all([waitForSynced(writer), waitForSynced(watcher)]);
  let typed = 0;
  let typing = true;
  const pump = () => {
    while (typing && typed - writer.acks() < 4) {
      typeInto(writer.doc, 'abcdefghij'[typed % 10]!);
      typed += 1;
    }
  };
  writer.provider.on('unsyncedChanges', pump);
  pump();
  return {
    writer,
    watcher,
    async finish() {
      typing = false;
      await waitForAcked(writer);
      await waitFor(() => textOf(watcher.doc) === textOf(writer.doc), 'the watcher sees every keystroke');
    },
  };
}

/** `work`, counting the writer's acknowledgements that arrive while each of its tasks runs. */
function observed(work: YjsWork, writer: TestClient): { work: YjsWork; acksDuring: number[] } {
  const acksDuring: number[] = [];
  const watch = async <T,>(task: () => Promise<T>): Promise<T> => {
    const before = writer.acks();
    const result = await task();
    acksDuring.push(writer.acks() - before);
    return result;
  };
  return {
    acksDuring,
    work: {
      threads: work.threads,
      replay: (rows) => watch(() => work.replay(rows)),
      replayPacked: (packed) => watch(() => work.replayPacked(packed)),
      derive: (packed) => watch(() => work.derive(packed)),
      blocksFromState: (state) => watch(() => work.blocksFromState(state)),
      advance: (state, packed) => watch(() => work.advance(state, packed)),
      contentUpdate: (base, input) => watch(() => work.contentUpdate(base, input)),
      blamePage: (state, packed) => watch(() => work.blamePage(state, packed)),
      restCopyFromState: (state) => watch(() => work.restCopyFromState(state)),
      parseScreenplay: (bytes, format) => watch(() => work.parseScreenplay(bytes, format)),
      writeScreenplay: (document, format, pdf) => watch(() => work.writeScreenplay(document, format, pdf)),
      close: () => work.close(),
    },
  };
}

describeEachServer('an editor is served while the pool derives a large scene', { env: { WORKER_THREADS: '1' } }, ({ db, app }) => {
  const clients: TestClient[] = [];
  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('stores and broadcasts the editor\'s keystrokes during the snapshot of a 40,000-update scene', async () => {
    expect(app().work).toBeInstanceOf(YjsWorkerPool);
    const { sceneIds, userId } = await createScript(db().prisma, { scenes: 3 });
    const [typed, large, control] = sceneIds as [string, string, string];
    await storeRows(db().database.sql, large, typedParagraphs(LARGE));
    await storeRows(db().database.sql, control, typedParagraphs(CONTROL));
    const editor = await typingEditor(app().wsUrl, typed, await tokenFor(userId), clients);
    const snapshots = (work: YjsWork) =>
      new SnapshotService({ prisma: db().prisma, sceneLog: app().sceneLog, metrics: app().metrics, logger: silentLogger(), intervalMs: 60_000, work });

    const inPool = observed(app().work, editor.writer);
    const written = await snapshots(inPool.work).snapshotScene(large);
    expect(written).toMatchObject({ status: 'written', blocks: { length: LARGE / 50 } });
    expect(inPool.acksDuring).toHaveLength(1);
    expect(inPool.acksDuring[0]).toBeGreaterThanOrEqual(3);

    const here = observed(inlineYjsWork, editor.writer);
    expect(await snapshots(here.work).snapshotScene(control)).toMatchObject({ status: 'written' });
    expect(here.acksDuring).toEqual([0]);

    await editor.finish();
  });
});

// PostgreSQL only: on PGlite the compaction's transaction holds the database's one connection
// from start to end, so an editor's appends wait for it whichever thread merges the rows (the
// pool frees PGlite's event loop, not its connection; see src/workers/README.md).
describeEachServer('an editor is served while the pool compacts a large scene', { kinds: ['postgres'], env: { WORKER_THREADS: '1' } }, ({ db, app }) => {
  const clients: TestClient[] = [];
  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('stores and broadcasts the editor\'s keystrokes while 40,000 rows merge, and stops the pool on shutdown', async () => {
    const { sceneIds, userId } = await createScript(db().prisma, { scenes: 3 });
    const [typed, large, control] = sceneIds as [string, string, string];
    await storeRows(db().database.sql, large, typedParagraphs(LARGE));
    await storeRows(db().database.sql, control, typedParagraphs(CONTROL));
    const editor = await typingEditor(app().wsUrl, typed, await tokenFor(userId), clients);

    const inPool = observed(app().work, editor.writer);
    const compacted = await compactScene(db().database.sql, large, { maxRows: LARGE, replayer: inPool.work });
    expect(compacted).toMatchObject({ status: 'compacted', mergedRows: LARGE });
    expect(inPool.acksDuring).toHaveLength(1);
    expect(inPool.acksDuring[0]).toBeGreaterThanOrEqual(3);

    const here = observed(inlineYjsWork, editor.writer);
    expect(await compactScene(db().database.sql, control, { maxRows: CONTROL, replayer: here.work })).toMatchObject({ status: 'compacted' });
    expect(here.acksDuring).toEqual([0]);

    await editor.finish();
    await app().stop();
    expect((app().work as YjsWorkerPool).workerThreads()).toEqual([]);
  });
});
