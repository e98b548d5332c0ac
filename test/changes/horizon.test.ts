import { expect, it } from 'vitest';
import { FEED_START, type ChangePosition, type SceneChange } from '../../src/log/changes.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/clients.ts';
import { createScript } from '../helpers/fixtures.ts';
import { textUpdate } from '../helpers/typing.ts';

/** Reads the whole feed after `after`, page by page. */
async function readAll(log: SceneLog, after: ChangePosition, scriptIds: string[] | null = null): Promise<SceneChange[]> {
  const all: SceneChange[] = [];
  let cursor = after;
  for (;;) {
    const page = await log.changes.page({ after: cursor, scriptIds, limit: 7 });
    all.push(...page);
    if (page.length === 0) return all;
    cursor = page.at(-1)!.position;
  }
}

const key = (change: SceneChange) => `${change.position.xid}:${change.position.changeId}`;

// Overlapping transactions need two connections: PGlite has one, and runs its transactions one
// after another, so a later transaction can never commit while an earlier one is open there.
describeEachDatabase('change feed horizon: a row committed later is never skipped', { kinds: ['postgres'] }, (db) => {
  it('holds back rows behind a transaction still open, and returns both once it commits', async () => {
    const log = new SceneLog(db().database.sql);
    const { sceneIds } = await createScript(db().prisma, { scenes: 2 });
    const [early, late] = sceneIds as [string, string];
    const start = await log.changes.tip();

    let commitEarly!: () => void;
    const held = new Promise<void>((resolve) => (commitEarly = resolve));
    let recorded!: () => void;
    const wrote = new Promise<void>((resolve) => (recorded = resolve));
    // Takes its transaction id first (its row has the lower id too), then stays open.
    const earlyTransaction = db().database.sql.transaction(async (tx) => {
      await new SceneLog(tx).changes.recordLifecycle(early, 'restore', null);
      recorded();
      await held;
    });
    await wrote;
    // Commits while the early one is still open: a higher xid and a higher change id.
    const [appended] = await log.append([{ sceneId: late, update: textUpdate('late'), createdBy: null }]);
    expect(appended).toHaveProperty('seq');

    // A reader now must not see the late row: reading it and moving the cursor past it would skip
    // the early one forever.
    const whileOpen = await log.changes.page({ after: start, scriptIds: null, limit: 100 });
    expect(whileOpen).toEqual([]);
    expect(await log.changes.tip()).toEqual(start);

    commitEarly();
    await earlyTransaction;
    // Another test's transaction on this PostgreSQL server may hold the horizon back a moment longer.
    let after: SceneChange[] = [];
    await waitFor(async () => (after = await readAll(log, start)).length === 2, 'both rows visible after the commit');
    expect(after.map((c) => [c.sceneId, c.kinds])).toEqual([
      [early, ['restore']],
      [late, ['edit']],
    ]);
  });

  it('loses and repeats nothing while many transactions append at once and a reader follows', async () => {
    const log = new SceneLog(db().database.sql);
    const { scriptId, sceneIds } = await createScript(db().prisma, { scenes: 6 });
    const start = await log.changes.tip();
    const seen: SceneChange[] = [];
    const deadline = Date.now() + 30_000;
    // Follows the feed while the writers write, until it has read as many rows as they wrote.
    const reader = (async () => {
      let cursor = start;
      while (seen.length < 120 && Date.now() < deadline) {
        const page = await log.changes.page({ after: cursor, scriptIds: [scriptId], limit: 5 });
        seen.push(...page);
        if (page.length > 0) cursor = page.at(-1)!.position;
        else await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // 120 appends, 8 at a time, each its own statement (and transaction) on the pool: their ids
    // are handed out in one order and committed in another.
    let next = 0;
    const writer = async () => {
      while (next < 120) {
        const i = next++;
        const results = await log.append([{ sceneId: sceneIds[i % sceneIds.length]!, update: textUpdate(`u${i}`), createdBy: null }]);
        expect(results[0]).toHaveProperty('seq');
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    await reader;

    const everything = await readAll(log, FEED_START, [scriptId]);
    expect(everything).toHaveLength(120);
    expect(seen.map(key)).toEqual(everything.map(key));
    // Per scene, the feed lists seqs 1..n.
    for (const sceneId of sceneIds) {
      const seqs = everything.filter((c) => c.sceneId === sceneId).map((c) => Number(c.seq));
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });
});
