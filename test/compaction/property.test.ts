import fc from 'fast-check';
import { expect, it } from 'vitest';
import { compactScene, type CompactionStep } from '../../src/log/compaction.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { purgeMergedRows } from '../../src/log/retention.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { Typist } from '../helpers/typing.ts';
import { soakOr } from '../helpers/soak.ts';
import { ageRows, expectedDocument, JOB_DEFAULTS, loadDocument, logRows, sameDocument } from './support.ts';

/**
 * Random interleavings of appends, compactions (some crashing at a random step), ageing, retention
 * runs and load-time quarantines on one scene. After every step a fresh load must equal the
 * document with every stored (decodable) update applied, and the live rows must still stand for
 * every update ever appended. Runs per database: PROPERTY_RUNS (default 150, so 300 in all;
 * `SOAK=1` runs 1,000 per database).
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? soakOr(150, 1000));
const HOUR = 60 * 60 * 1000;

type Edit = { kind: 'type'; text: string; at: number } | { kind: 'erase'; at: number; length: number };

type Command =
  | { kind: 'append'; typist: number; edits: Edit[] }
  | { kind: 'appendCorrupt' }
  | { kind: 'compact'; maxRows: number | undefined; aged: boolean; crashAt: CompactionStep | null }
  | { kind: 'age' }
  | { kind: 'retention'; batchSize: number; all: boolean }
  | { kind: 'loadAndQuarantine' };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('type' as const), text: fc.string({ minLength: 1, maxLength: 4 }), at: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), at: fc.nat(40), length: fc.integer({ min: 1, max: 5 }) }) },
);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), typist: fc.nat(2), edits: fc.array(edit, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'appendCorrupt' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('compact' as const),
      maxRows: fc.option(fc.integer({ min: 2, max: 12 }), { nil: undefined }),
      aged: fc.boolean(),
      crashAt: fc.option(fc.constantFrom<CompactionStep>('locked', 'selected', 'built', 'inserted', 'marked'), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'age' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retention' as const), batchSize: fc.integer({ min: 1, max: 6 }), all: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'loadAndQuarantine' as const }) },
);

describeEachDatabase('compaction property: a fresh load always equals every update applied', (db) => {
  it(`holds over ${RUNS} random interleavings`, { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
        const sql = db().database.sql;
        const log = new SceneLog(sql);
        const { sceneIds } = await createScript(db().prisma);
        const sceneId = sceneIds[0]!;
        const typists = [new Typist(), new Typist(), new Typist()];
        const stored: Uint8Array[] = [];
        let rowsAppended = 0;
        let rowsQuarantined = 0;

        for (const cmd of commands) {
          switch (cmd.kind) {
            case 'append': {
              const typist = typists[cmd.typist]!;
              const updates = cmd.edits
                .map((e) => (e.kind === 'type' ? typist.type(e.text, e.at) : typist.erase(e.at, e.length)))
                .filter((u): u is Uint8Array => u !== null);
              if (updates.length === 0) break;
              await log.append(updates.map((update) => ({ sceneId, update, createdBy: null })));
              stored.push(...updates);
              rowsAppended += updates.length;
              break;
            }
            case 'appendCorrupt':
              await log.append([{ sceneId, update: new Uint8Array([0xff, 0xfe, 0x01, 0x02]), createdBy: null }]);
              rowsAppended += 1;
              break;
            case 'compact': {
              const before = await logRows(sql, sceneId);
              const options = {
                maxRows: cmd.maxRows ?? JOB_DEFAULTS.compaction.maxRowsPerCompaction,
                createdBefore: cmd.aged ? new Date(Date.now() - HOUR / 2) : undefined,
                onStep: (step: CompactionStep) => {
                  if (step === cmd.crashAt) throw new Error(`crash after ${step}`);
                },
              };
              const outcome = await compactScene(sql, sceneId, options).then(
                (result) => result,
                (error: unknown) => error as Error,
              );
              if (outcome instanceof Error) {
                expect(outcome.message).toBe(`crash after ${cmd.crashAt}`);
                // Interrupted at any point: nothing of it is visible.
                expect(await logRows(sql, sceneId)).toEqual(before);
              }
              break;
            }
            case 'age':
              await ageRows(sql, sceneId, HOUR);
              break;
            case 'retention': {
              const liveBefore = (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null);
              const cutoff = cmd.all ? new Date(Date.now() + 24 * HOUR) : new Date(Date.now() - HOUR / 2);
              await purgeMergedRows(sql, sceneId, { cutoff, batchSize: cmd.batchSize });
              const after = await logRows(sql, sceneId);
              // Retention deletes merged rows only, and never turns a merged row live again.
              expect(after.filter((row) => row.compactedBy === null)).toEqual(liveBefore);
              break;
            }
            case 'loadAndQuarantine': {
              // What the server's load does with rows that do not decode.
              const rows = await log.load(sceneId);
              for (const bad of replayUpdates(rows).undecodable) {
                if (await log.quarantine(sceneId, bad.versionId, 'property test')) rowsQuarantined += 1;
              }
              break;
            }
          }

          const loaded = await loadDocument(sql, sceneId);
          expect(sameDocument(loaded.doc, expectedDocument(stored))).toBe(true);
          const rows = await logRows(sql, sceneId);
          const live = rows.filter((row) => row.compactedBy === null);
          // The live rows stand for every update appended and not quarantined, each exactly once.
          expect(live.reduce((sum, row) => sum + row.compactedCount, 0)).toBe(rowsAppended - rowsQuarantined);
          expect(live.filter((row) => row.isCompacted).length).toBeLessThanOrEqual(1);
          // A merged row always points at a row that is still there.
          const ids = new Set(rows.map((row) => row.versionId));
          expect(rows.every((row) => row.compactedBy === null || ids.has(row.compactedBy))).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
