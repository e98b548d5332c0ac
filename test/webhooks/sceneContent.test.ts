import { beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { compactScene } from '../../src/log/compaction.ts';
import { unpackUpdates } from '../../src/log/packed.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { SceneReader } from '../../src/scenes/reader.ts';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';
import { WebhookSceneContent } from '../../src/webhooks/sceneContent.ts';
import { inlineYjsWork, type YjsWork } from '../../src/workers/pool.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';

const heading = { type: 'scene_heading', text: 'INT. DINER - NIGHT' };
const action = (text: string) => ({ type: 'action', text });

describeEachDatabase('webhook content: the state kept between deliveries', (db) => {
  let log: SceneLog;
  let reader: SceneReader;
  /** The rows each `advance` was given, to tell a whole-log read from an increment. */
  let advancedRows: number[];
  let now: number;
  let content: WebhookSceneContent;

  const counting: Pick<YjsWork, 'advance'> = {
    advance: async (state, packed) => {
      advancedRows.push(unpackUpdates(packed).length);
      return inlineYjsWork.advance(state, packed);
    },
  };

  beforeAll(() => {
    log = new SceneLog(db().database.sql);
    reader = new SceneReader({ prisma: db().prisma, sceneLog: log, metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger(), liveDocument: () => undefined, freshness: { freshMs: 60_000, staleMs: 600_000 } });
  });

  const fresh = () => {
    advancedRows = [];
    now = 1_000_000;
    content = new WebhookSceneContent({ sceneLog: log, reader, work: counting, keepMs: 60_000, now: () => now });
  };
  const newScene = async (contentBlocks: unknown[] = []) => (await createScript(db().prisma, { scenes: 1, contentBlocks })).sceneIds[0]!;
  const write = async (sceneId: string, doc: Y.Doc, blocks: unknown[]) => {
    const { update } = applyRestBlocksToYDoc(doc, blocks);
    if (!update) throw new Error('no change');
    const [appended] = await log.append([{ sceneId, update, createdBy: null }]);
    if (appended instanceof Error) throw appended;
    return appended.seq;
  };

  it('reads the whole log once, then only the rows after what it kept', async () => {
    fresh();
    const sceneId = await newScene();
    const doc = new Y.Doc();
    await write(sceneId, doc, [heading]);
    const two = await write(sceneId, doc, [heading, action('A cup.')]);
    expect(await content.read(sceneId)).toEqual({ seq: two, blocks: [heading, action('A cup.')] });

    await write(sceneId, doc, [heading, action('A cup of coffee.')]);
    const four = await write(sceneId, doc, [heading, action('A cup of coffee.'), action('It steams.')]);
    expect(await content.read(sceneId)).toEqual({ seq: four, blocks: [heading, action('A cup of coffee.'), action('It steams.')] });
    // Nothing new: nothing to apply.
    expect(await content.read(sceneId)).toEqual({ seq: four, blocks: [heading, action('A cup of coffee.'), action('It steams.')] });
    expect(advancedRows).toEqual([2, 2]);
  });

  it('stays right across a compaction that merged rows on both sides of what it kept', async () => {
    fresh();
    const sceneId = await newScene();
    const doc = new Y.Doc();
    await write(sceneId, doc, [heading]);
    await write(sceneId, doc, [heading, action('Rain.')]);
    await content.read(sceneId);
    await write(sceneId, doc, [heading, action('Rain on glass.')]);
    const last = await write(sceneId, doc, [heading, action('Rain on glass.'), action('A horn.')]);
    expect(await compactScene(db().database.sql, sceneId, { maxRows: 1000, wait: true })).toMatchObject({ status: 'compacted' });
    expect(await content.read(sceneId)).toEqual({ seq: last, blocks: [heading, action('Rain on glass.'), action('A horn.')] });
    // The merged row (seq 4, holding rows 1 to 4) is the one row after seq 2.
    expect(advancedRows).toEqual([2, 1]);
  });

  it('reads the whole log again once the kept state is older than keepMs', async () => {
    fresh();
    const sceneId = await newScene();
    const doc = new Y.Doc();
    await write(sceneId, doc, [heading]);
    await content.read(sceneId);
    now += 60_001;
    const two = await write(sceneId, doc, [heading, action('Later.')]);
    expect(await content.read(sceneId)).toEqual({ seq: two, blocks: [heading, action('Later.')] });
    expect(advancedRows).toEqual([1, 2]);
  });

  it('gives the REST copy of a scene without a log, and null for a scene that is gone', async () => {
    fresh();
    const sceneId = await newScene([heading, action('Only REST.')]);
    expect(await content.read(sceneId)).toEqual({ seq: null, blocks: [expect.objectContaining(heading), expect.objectContaining(action('Only REST.'))] });
    expect(await content.read('00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(advancedRows).toEqual([]);
  });
});
