import fc from 'fast-check';
import { expect, it } from 'vitest';
import { compactScene } from '../../src/log/compaction.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { purgeMergedRows } from '../../src/log/retention.ts';
import { blocksFromState } from '../../src/workers/tasks.ts';
import { tokenFor } from '../helpers/auth.ts';
import { canonical } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { ageRows, JOB_DEFAULTS, logRows } from '../compaction/support.ts';
import { request } from '../http/support.ts';

/**
 * Random histories of one scene: content changes (PATCH, the path every server-side change takes),
 * labels, restores, compactions and retention runs (the project's own passes, with the rows aged
 * past the retention period). After each restore to a seq, a fresh load of the log equals the
 * content the scene had at that seq when the log still holds it, and the restore is a 410 when
 * compaction and retention took it away (decided from the stored rows alone). A label restores
 * to the content it was made at, whatever was compacted and deleted since. Small on purpose: a
 * few seconds per database on a 2-core machine (PROPERTY_RUNS overrides).
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 5);
const DAY = 24 * 60 * 60 * 1000;

const blockArb = fc.record({
  type: fc.constantFrom('scene_heading', 'action', 'character', 'dialogue', 'transition'),
  text: fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'é', '😀'), maxLength: 8 }),
});

type Command =
  | { kind: 'patch'; blocks: Array<{ type: string; text: string }> }
  | { kind: 'label' }
  | { kind: 'restoreSeq'; pick: number }
  | { kind: 'restoreLabel'; pick: number }
  | { kind: 'compact' }
  | { kind: 'retention' };

/**
 * A history is a few rounds, each some edits, then perhaps a label, a compaction and a retention
 * run, then a restore: so compacted and deleted stretches, and restores into them, are common.
 */
const round: fc.Arbitrary<Command[]> = fc
  .record({
    patches: fc.array(blockArb.chain((first) => fc.array(blockArb, { maxLength: 3 }).map((rest) => [first, ...rest])), { minLength: 1, maxLength: 3 }),
    label: fc.boolean(),
    compact: fc.boolean(),
    retention: fc.boolean(),
    restore: fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('restoreSeq' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restoreLabel' as const), pick: fc.nat() }) },
    ),
  })
  .map(({ patches, label, compact, retention, restore }) => [
    ...patches.map((blocks): Command => ({ kind: 'patch', blocks })),
    ...(label ? [{ kind: 'label' } as const] : []),
    ...(compact ? [{ kind: 'compact' } as const] : []),
    ...(retention ? [{ kind: 'retention' } as const] : []),
    restore,
  ]);
const history: fc.Arbitrary<Command[]> = fc.array(round, { minLength: 2, maxLength: 4 }).map((rounds) => rounds.flat());

describeEachServer('restore property: restoring a seq gives the content at that seq, or 410 once it is gone', ({ db, app }) => {
  it(`holds over ${RUNS} random histories`, { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(history, async (commands) => {
        const sql = db().database.sql;
        const { sceneIds, userId } = await createScript(db().prisma);
        const sceneId = sceneIds[0]!;
        const token = await tokenFor(userId);
        // The content after each seq the scene's log has (seq 0: before the first update).
        const contentAt = new Map<number, string>([[0, canonical([])]]);
        let current = canonical([]);
        const labels: Array<{ name: string; content: string }> = [];
        const fresh = async () => {
          const state = replayUpdates(await app().sceneLog.load(sceneId)).state;
          return canonical(blocksFromState(state));
        };
        const recordWrite = (seq: number | null, content: string) => {
          if (seq !== null) contentAt.set(seq, content);
          current = content;
        };

        for (const [index, cmd] of commands.entries()) {
          switch (cmd.kind) {
            case 'patch': {
              const patched = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { blocks: cmd.blocks } });
              expect(patched.status).toBe(200);
              recordWrite(patched.body.patch.seq, canonical(cmd.blocks));
              break;
            }
            case 'label': {
              const name = `Draft ${index}`;
              const made = await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token, body: { name } });
              expect(made.status).toBe(201);
              labels.push({ name, content: current });
              break;
            }
            case 'restoreSeq': {
              const seqs = [...contentAt.keys()];
              const seq = seqs[cmd.pick % seqs.length]!;
              // Whether the log still holds the state at `seq`, from the stored rows alone: past the
              // newest compacted row it always does; before it only while every original up to it is kept.
              const rows = await logRows(sql, sceneId);
              const newestCompacted = rows.filter((row) => row.isCompacted && row.compactedBy === null).map((row) => Number(row.seq))[0] ?? null;
              const originals = new Set(rows.filter((row) => !row.isCompacted).map((row) => Number(row.seq)));
              const retained =
                seq === 0 || newestCompacted === null || seq >= newestCompacted || Array.from({ length: seq }, (_, i) => i + 1).every((s) => originals.has(s));
              const restored = await request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { token, body: { seq } });
              if (!retained) {
                expect(restored.status).toBe(410);
                expect(restored.body.code).toBe('HISTORY_NOT_RETAINED');
                expect(await fresh()).toBe(current);
                break;
              }
              expect(restored.status).toBe(200);
              expect(restored.body.changed).toBe(contentAt.get(seq) !== current);
              recordWrite(restored.body.seq, contentAt.get(seq)!);
              expect(await fresh()).toBe(contentAt.get(seq));
              break;
            }
            case 'restoreLabel': {
              if (labels.length === 0) break;
              const label = labels[cmd.pick % labels.length]!;
              const restored = await request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { token, body: { label: label.name } });
              expect(restored.status).toBe(200);
              recordWrite(restored.body.seq, label.content);
              expect(await fresh()).toBe(label.content);
              break;
            }
            case 'compact':
              await compactScene(sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction });
              break;
            case 'retention':
              await ageRows(sql, sceneId, 31 * DAY);
              await purgeMergedRows(sql, sceneId, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: JOB_DEFAULTS.retention.batchSize });
              break;
          }
          expect(await fresh()).toBe(current);
        }
        // Every label made, however much was compacted and deleted since, still restores.
        for (const label of labels) {
          const restored = await request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { token, body: { label: label.name } });
          expect(restored.status).toBe(200);
          expect(await fresh()).toBe(label.content);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
