/**
 * `--only=pglite`: the embedded default every new user starts on (issue 22, item 3). The same
 * throughput, edit->peer and edit->durable runs as the main benchmark, for this project's server on
 * PostgreSQL and on PGlite (`DATABASE_URL` unset, a fresh `DATA_DIR`), plain Hocuspocus beside them
 * as the floor. Around each latency run the server's own group-commit histograms are read from
 * `/metrics` (serverHistograms.ts): batch size, commit time and queue wait, which say whether the
 * tail is the commit or the wait behind it.
 *
 * What "acknowledged" means on PGlite (read in @electric-sql/pglite 0.5's Node build): it starts
 * PostgreSQL with `-F` (fsync off), and its Node file system is Emscripten's NODEFS, whose stream
 * operations have no `fsync` (the `fd_sync` call returns success without one). A commit is written
 * with `fs.writeSync` into the operating system's page cache before it is acknowledged: it survives
 * the server process being killed, not a power loss or a kernel crash.
 */
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { sized, type Report, type TargetName } from './report.ts';
import { editToDurable, maxThroughput, peerLatency } from './scenarios.ts';
import { commitFigures, readCommitHistograms } from './serverHistograms.ts';
import { settleDatabase } from './storage.ts';
import { startComparison, startDurable, type Target } from './targets.ts';

const SIZES = {
  smoke: { seconds: 1, manyScenes: 10 },
  quick: { seconds: 3, manyScenes: 100 },
  full: { seconds: 8, manyScenes: 100 },
};
const RATE = 1000;

interface Setup {
  label: 'PostgreSQL' | 'PGlite';
  db: TestDatabase;
  scenes: { single: string; many: string[]; latency: string; durable: string };
  token: string;
}

async function prepare(label: Setup['label'], manyScenes: number): Promise<Setup> {
  const db = await createTestDatabase(label === 'PGlite' ? 'pglite' : 'postgres');
  const fixture = await createScript(db.prisma, { scenes: manyScenes + 3, title: `Benchmark on ${label}` });
  const [single, latency, durable, ...many] = fixture.sceneIds as [string, string, string, ...string[]];
  const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
  // PGlite takes one process per data directory: the server's, from here on.
  if (label === 'PGlite') await db.release();
  return { label, db, scenes: { single, many, latency, durable }, token };
}

async function measure(report: Report, name: TargetName, target: Target, setup: Setup, seconds: number): Promise<void> {
  const scenario = 'pglite';
  const on = setup.label;
  const common = { token: setup.token, seed: report.seed };
  const one = await maxThroughput(target, { sceneIds: [setup.scenes.single], clientsPerScene: 10, seconds, window: 16, ...common });
  report.record({ scenario, label: `${on}: max updates/s, 1 scene x 10 clients`, unit: 'updates/s', higherIsBetter: true, goal: '>= 80% of floor' }, name, one.updatesPerSecond);
  const many = await maxThroughput(target, { sceneIds: setup.scenes.many, clientsPerScene: 1, seconds, window: 16, ...common });
  report.record({ scenario, label: `${on}: max updates/s, ${setup.scenes.many.length} scenes x 1 client`, unit: 'updates/s', higherIsBetter: true, goal: '>= 80% of floor' }, name, many.updatesPerSecond);
  if (setup.db.databaseUrl) await settleDatabase(setup.db.databaseUrl);

  const beforePeer = await readCommitHistograms(target);
  const peer = await peerLatency(target, { sceneId: setup.scenes.latency, clients: 10, rate: RATE, seconds, ...common });
  const afterPeer = await readCommitHistograms(target);
  report.recordPercentiles(scenario, `${on}: edit->peer, 10 clients @${RATE}/s`, name, peer, { goal: '<= 2x floor' });
  const durable = await editToDurable(target, { sceneId: setup.scenes.durable, clients: 10, rate: RATE, seconds, ...common });
  const afterDurable = await readCommitHistograms(target);
  if (durable) report.recordPercentiles(scenario, `${on}: edit->durable @${RATE}/s`, name, durable, { goal: on === 'PGlite' ? '< 20 ms' : undefined });
  let commits = '';
  if (beforePeer && afterPeer && afterDurable) {
    for (const [run, from, to] of [['edit->peer run', beforePeer, afterPeer], ['edit->durable run', afterPeer, afterDurable]] as const) {
      const figures = commitFigures(from, to);
      for (const q of ['p50', 'p99'] as const) {
        report.record({ scenario, label: `${on}, ${run}: server commit time ${q}`, unit: 'ms', higherIsBetter: false }, name, figures.commitSeconds[q]);
        report.record({ scenario, label: `${on}, ${run}: server queue wait before the batch ${q}`, unit: 'ms', higherIsBetter: false }, name, figures.queueWaitSeconds[q]);
        report.record({ scenario, label: `${on}, ${run}: server batch size ${q}`, unit: 'updates', higherIsBetter: false }, name, figures.batchSize[q]);
      }
      commits +=
        `; ${run}: commit p50/p99 ${figures.commitSeconds.p50.toFixed(2)}/${figures.commitSeconds.p99.toFixed(2)} ms, ` +
        `queue wait ${figures.queueWaitSeconds.p50.toFixed(2)}/${figures.queueWaitSeconds.p99.toFixed(2)} ms, ` +
        `batch ${figures.batchSize.p50.toFixed(1)}/${figures.batchSize.p99.toFixed(1)} (${figures.batchSize.count} batches)`;
    }
  }
  report.log(
    `  ${on}: ${one.updatesPerSecond.toFixed(0)} / ${many.updatesPerSecond.toFixed(0)} updates/s; edit->peer p99 ${peer.p99.toFixed(1)} ms` +
      `${durable ? `; edit->durable p50/p99 ${durable.p50.toFixed(1)}/${durable.p99.toFixed(1)} ms` : ''}${commits}`,
  );
}

export async function pgliteScenario(report: Report): Promise<void> {
  const size = sized(report.size, SIZES);
  report.log('\nthe embedded default: this server on PostgreSQL and on PGlite, the floor beside them');
  const setups: Setup[] = [];
  try {
    for (const label of ['PostgreSQL', 'PGlite'] as const) setups.push(await prepare(label, size.manyScenes));
    // The floor stores nothing: the same runs on each setup's scenes measure it twice, once per row.
    const floor = await startComparison('floor');
    try {
      report.log(`\n${floor.label}`);
      for (const setup of setups) await measure(report, 'floor', floor, setup, size.seconds);
    } finally {
      await floor.stop();
    }
    for (const setup of setups) {
      const target = setup.label === 'PGlite' ? await startDurable(undefined, { DATA_DIR: setup.db.dataDir! }) : await startDurable(setup.db.databaseUrl!);
      try {
        report.log(`\n${target.label}`);
        await measure(report, 'durable', target, setup, size.seconds);
      } finally {
        await target.stop();
      }
    }
  } finally {
    for (const setup of setups) await setup.db.close();
  }
}
