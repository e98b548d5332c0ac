/**
 * `--only=growth`: how connect-to-synced and memory grow (issue 22, item 5), for this project and
 * the stock extension (plain Hocuspocus has nothing to load). Two families of curves:
 * - by scene size: one scene of 1k, 10k, 100k typing updates (uncompacted; the extension's one
 *   stored state of the same updates): connect-to-synced p50 (reopened, as the main `load`
 *   figures) and the heap the loaded scene costs;
 * - by loaded scenes: 1, 10, 100, 1,000 scenes of `UPDATES_PER_SCENE` updates opened at once on one
 *   socket: the time until all are synced and the heap they cost.
 * Each curve is fitted with a line in log-log space; its slope is the exponent (1 linear, below 1
 * sublinear), a figure of its own and a chart per curve.
 */
import pg from 'pg';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitForSynced } from '../helpers/clients.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { logLogChart, type CurveSeries } from './lineChart.ts';
import { sized, type Report } from './report.ts';
import { connectToSynced } from './scenarios.ts';
import { openScript } from './scriptReader.ts';
import { fullState, populateScene, settleDatabase, storeUpdates } from './storage.ts';
import { startComparison, startDurable, type Target } from './targets.ts';
import { typingUpdates } from './workload.ts';

const SIZES = {
  smoke: { updates: [1_000, 10_000], scenes: [1, 10], repeats: 3 },
  quick: { updates: [1_000, 10_000, 100_000], scenes: [1, 10, 100], repeats: 3 },
  full: { updates: [1_000, 10_000, 100_000], scenes: [1, 10, 100, 1_000], repeats: 7 },
};
const UPDATES_PER_SCENE = 100;
const SCENES_PER_SOCKET = 100;
/** Stores on the debounce (database extension, 2 s) and unloads take a moment (as in memoryPerScene). */
const UNLOAD_WAIT_MS = 3500;
const TARGETS = ['database', 'durable'] as const;
type Curve = 'connect-by-size' | 'memory-by-size' | 'connect-by-scenes' | 'memory-by-scenes';
const CURVES: Record<Curve, { title: string; x: string; y: string }> = {
  'connect-by-size': { title: 'connect-to-synced p50 by scene size', x: 'updates in the scene', y: 'ms' },
  'memory-by-size': { title: 'heap of one loaded scene by its size', x: 'updates in the scene', y: 'KiB' },
  'connect-by-scenes': { title: 'all synced, scenes opened at once', x: `loaded scenes (${UPDATES_PER_SCENE} updates each)`, y: 'ms' },
  'memory-by-scenes': { title: 'heap of the loaded scenes', x: `loaded scenes (${UPDATES_PER_SCENE} updates each)`, y: 'KiB' },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The slope of the least-squares line through (log x, log y): the curve's exponent. */
export function logLogExponent(points: ReadonlyArray<{ x: number; y: number }>): number {
  const valid = points.filter((p) => p.x > 0 && p.y > 0).map((p) => ({ x: Math.log(p.x), y: Math.log(p.y) }));
  if (valid.length < 2) return Number.NaN;
  const mx = valid.reduce((s, p) => s + p.x, 0) / valid.length;
  const my = valid.reduce((s, p) => s + p.y, 0) / valid.length;
  const cov = valid.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const varX = valid.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return cov / varX;
}

function shape(exponent: number): string {
  if (!Number.isFinite(exponent)) return 'n/a';
  if (exponent < 0.9) return 'sublinear';
  if (exponent <= 1.1) return 'linear';
  return 'superlinear';
}

async function heldBytes(target: Target): Promise<number> {
  const { heapUsed, external } = await target.heap();
  return heapUsed + external;
}

export async function growthScenario(report: Report): Promise<void> {
  const size = sized(report.size, SIZES);
  report.log(`\ngrowth curves: scenes of ${size.updates.join(' / ')} updates; ${size.scenes.join(' / ')} loaded scenes of ${UPDATES_PER_SCENE} updates`);
  const db = await createTestDatabase('postgres');
  try {
    const sql = db.database.sql;
    const bySize = await createScript(db.prisma, { scenes: size.updates.length, title: 'Growth by size' });
    const token = await tokenFor(bySize.userId, { ttlSeconds: 24 * 3600 });
    const maxScenes = Math.max(...size.scenes);
    const byCount = await createScript(db.prisma, { ownerId: bySize.userId, scenes: maxScenes, title: 'Growth by scenes' });
    const pool = new pg.Pool({ connectionString: db.databaseUrl, max: 2 });
    await pool.query('CREATE TABLE IF NOT EXISTS bench_documents (name text PRIMARY KEY, data bytea NOT NULL)');
    for (const [i, count] of size.updates.entries()) {
      const updates = await populateScene(sql, bySize.sceneIds[i]!, count, report.seed + count);
      await pool.query('INSERT INTO bench_documents (name, data) VALUES ($1, $2)', [bySize.sceneIds[i], Buffer.from(fullState(updates))]);
    }
    const small = typingUpdates(UPDATES_PER_SCENE, report.seed);
    const smallState = Buffer.from(fullState(small));
    for (const sceneId of byCount.sceneIds) {
      await storeUpdates(sql, sceneId, small);
      await pool.query('INSERT INTO bench_documents (name, data) VALUES ($1, $2)', [sceneId, smallState]);
    }
    await pool.end();

    const curves = new Map<Curve, CurveSeries[]>(Object.keys(CURVES).map((c) => [c as Curve, []]));
    for (const name of TARGETS) {
      const target = name === 'durable' ? await startDurable(db.databaseUrl!) : await startComparison(name, db.databaseUrl);
      const series = (curve: Curve) => {
        const s: CurveSeries = { name: target.label, points: [] };
        curves.get(curve)!.push(s);
        return s;
      };
      const [connectBySize, memoryBySize, connectByScenes, memoryByScenes] = [series('connect-by-size'), series('memory-by-size'), series('connect-by-scenes'), series('memory-by-scenes')];
      try {
        await settleDatabase(db.databaseUrl!);
        report.log(`\n${target.label}`);
        // One unmeasured open first: code the server loads or compiles on first use is not a scene's.
        await connectToSynced(target, { sceneId: bySize.sceneIds[0]!, repeats: 1, token });
        await sleep(UNLOAD_WAIT_MS);
        for (const [i, count] of size.updates.entries()) {
          const sceneId = bySize.sceneIds[i]!;
          const connect = await connectToSynced(target, { sceneId, repeats: size.repeats, token });
          await sleep(UNLOAD_WAIT_MS);
          const baseline = await heldBytes(target);
          const client = connectClient(target.wsUrl, sceneId, { token });
          await waitForSynced(client, 120_000);
          const loaded = await heldBytes(target);
          client.destroy();
          await sleep(UNLOAD_WAIT_MS);
          connectBySize.points.push({ x: count, y: connect.p50 });
          memoryBySize.points.push({ x: count, y: (loaded - baseline) / 1024 });
          report.record({ scenario: 'growth', label: `connect-to-synced p50, one scene of ${count} updates`, unit: 'ms', higherIsBetter: false }, name, connect.p50);
          report.record({ scenario: 'growth', label: `heap of one loaded scene of ${count} updates`, unit: 'KiB', higherIsBetter: false }, name, (loaded - baseline) / 1024);
          report.log(`  ${count} updates: connect p50 ${connect.p50.toFixed(1)} ms, heap ${((loaded - baseline) / 1024).toFixed(0)} KiB`);
        }
        for (const count of size.scenes) {
          const baseline = await heldBytes(target);
          // A socket opens at most SCENES_PER_SOCKET of them (a script's worth; this server allows
          // MAX_DOCUMENTS_PER_SOCKET, 500, on one socket), all sockets at once.
          const sceneIds = byCount.sceneIds.slice(0, count);
          const readers = Array.from({ length: Math.ceil(count / SCENES_PER_SOCKET) }, (_, i) =>
            openScript(target.wsUrl, sceneIds.slice(i * SCENES_PER_SOCKET, (i + 1) * SCENES_PER_SOCKET), token, { timeoutMs: 300_000 }),
          );
          const allSynced = Math.max(...(await Promise.all(readers.map((reader) => reader.synced))).flat());
          const loaded = await heldBytes(target);
          for (const reader of readers) reader.destroy();
          await sleep(UNLOAD_WAIT_MS);
          connectByScenes.points.push({ x: count, y: allSynced });
          memoryByScenes.points.push({ x: count, y: (loaded - baseline) / 1024 });
          report.record({ scenario: 'growth', label: `${count} scenes opened at once: all synced`, unit: 'ms', higherIsBetter: false }, name, allSynced);
          report.record({ scenario: 'growth', label: `heap of ${count} loaded scenes`, unit: 'KiB', higherIsBetter: false }, name, (loaded - baseline) / 1024);
          report.log(`  ${count} scenes at once: all synced in ${allSynced.toFixed(0)} ms, heap ${((loaded - baseline) / 1024).toFixed(0)} KiB`);
        }
      } finally {
        await target.stop();
      }
    }
    for (const [curve, series] of curves) {
      for (const [i, s] of series.entries()) {
        const exponent = logLogExponent(s.points);
        report.record({ scenario: 'growth', label: `exponent of the log-log fit: ${CURVES[curve].title}`, unit: 'exponent', higherIsBetter: false, goal: '<= 1 (linear or sublinear)' }, TARGETS[i]!, exponent);
        report.log(`  ${CURVES[curve].title}, ${s.name}: exponent ${exponent.toFixed(2)} (${shape(exponent)})`);
        s.name = `${s.name} (exponent ${exponent.toFixed(2)}, ${shape(exponent)})`;
      }
      report.chart(`growth-${curve}`, logLogChart(CURVES[curve].title, CURVES[curve].x, CURVES[curve].y, series));
    }
  } finally {
    await db.close();
  }
}
