/**
 * `npm run bench [-- --quick | --smoke] [-- --order=durable,floor,database] [-- --only=<scenario>] [-- --all] [-- --repeat=N]`:
 * (`--only=core|jobs|throughput|flood|rest|interchange|webhooks|storm|instances|pglite|feature|growth`)
 * the figures a user compares collaboration backends on, for this
 * project and, in the same run, for plain Hocuspocus with no persistence (the floor) and for
 * Hocuspocus with @hocuspocus/extension-database storing the whole document in PostgreSQL on its
 * default debounce (the common setup). Every server runs as its own process on the PostgreSQL at
 * 127.0.0.1:5432; the clients are real providers in this process. Results: a table on stdout, and
 * a JSON file and one SVG chart per scenario under test/bench/results/ (git-ignored).
 *
 * The day-after-launch scenarios (issue 22) run with `--only=<name>`, or after the default run
 * with `--all`; they are not in the default run, whose 20-minute budget they would exceed:
 * `storm` (reconnect storm, stormScenario.ts), `instances` (two and three instances behind Redis,
 * instancesScenario.ts), `pglite` (the embedded database beside PostgreSQL, pgliteScenario.ts),
 * `feature` (a 120-scene script, featureScenario.ts), `growth` (growth curves, growthScenario.ts).
 * `--smoke` runs them at a tiny size, to prove they work end to end (other scenarios take their
 * `--quick` size under it). `--repeat=N` (default 1) runs everything selected N times and reports,
 * for every figure and ratio, the median and the range (min-max) of the N runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { barChart, type ChartRow } from './chart.ts';
import { featureScenario } from './featureScenario.ts';
import { floodScenario } from './floodScenario.ts';
import { growthScenario } from './growthScenario.ts';
import { instancesScenario } from './instancesScenario.ts';
import { interchangeScenario } from './interchangeScenario.ts';
import { webhooksScenario } from './webhooksScenario.ts';
import { jobsScenario } from './jobsScenario.ts';
import { pgliteScenario } from './pgliteScenario.ts';
import type { BenchSize, Report } from './report.ts';
import { restScenario } from './rest.ts';
import { restFollowScenario } from './restFollowScenario.ts';
import { connectToEachOnce, connectToSynced, editToDurable, maxThroughput, memoryPerScene, peerLatency, type Percentiles } from './scenarios.ts';
import { commitFigures, readCommitHistograms } from './serverHistograms.ts';
import { compactFully, compactionThroughput, fullState, populateScene, settleDatabase, storeUpdates } from './storage.ts';
import { stormScenario } from './stormScenario.ts';
import { buildServer, startComparison, startDurable, type Target } from './targets.ts';

const smoke = process.argv.includes('--smoke');
const quick = smoke || process.argv.includes('--quick');
const size: BenchSize = smoke ? 'smoke' : quick ? 'quick' : 'full';
/** `--all`: the default run, then the day-after-launch scenarios. */
const all = process.argv.includes('--all');
const repeat = parseRepeat(process.argv.find((arg) => arg.startsWith('--repeat='))?.slice('--repeat='.length));

function parseRepeat(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--repeat takes a whole number of runs of at least 1; got "${value}"\n`);
    process.exit(2);
  }
  return n;
}
const settings = quick
  ? { seconds: 3, rates: [1000], loadSizes: [100, 1_000, 10_000], repeats: 5, compactionScenes: 20, memoryScenes: 20, memoryCycles: 3 }
  : { seconds: 8, rates: [250, 1000], loadSizes: [100, 1_000, 10_000, 100_000], repeats: 11, compactionScenes: 60, memoryScenes: 50, memoryCycles: 10 };
const SEED = 20261122;
const TARGETS = ['floor', 'database', 'durable'] as const;
type TargetName = (typeof TARGETS)[number];
/** `--order=durable,floor`: which servers run, in what order (default: all, floor first). */
const order = parseOrder(process.argv.find((arg) => arg.startsWith('--order='))?.slice('--order='.length));

function parseOrder(value: string | undefined): TargetName[] {
  if (value === undefined) return [...TARGETS];
  const names = value.split(',').filter(Boolean);
  const unknown = names.filter((name) => !(TARGETS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    process.stderr.write(`--order takes a comma-separated list of ${TARGETS.join(', ')}; got "${value}"\n`);
    process.exit(2);
  }
  return names as TargetName[];
}
/**
 * `--only=jobs`: only the jobs-on-versus-off scenario (jobsScenario.ts), for this project's server.
 * `--only=throughput`: only the two throughput runs, for the servers `--order` names (the append
 * hot path's figure). `--only=flood`: only the awareness flood scenario (floodScenario.ts), for
 * this project's server. `--only=rest`: a 120-scene script just edited by connected writers, then
 * its listing read, with the REST copy follower off and on (restFollowScenario.ts).
 * `--only=interchange`: a 120-scene, ~120-page FDX imported over HTTP (seeds included), then
 * exported as PDF and FDX (interchangeScenario.ts). `--only=webhooks`: typing with 10 webhook
 * endpoints against none, and the delivery latency (webhooksScenario.ts). `--only=core`: the
 * default run without its jobs, flood and REST-follow scenarios (the core figures: throughput,
 * latency, durability, load, REST and memory for every server, then compaction), short enough for
 * `--repeat=3`. The day-after-launch scenarios: see the header.
 */
const ONLY = ['core', 'jobs', 'throughput', 'flood', 'rest', 'interchange', 'webhooks', 'storm', 'instances', 'pglite', 'feature', 'growth'] as const;
type OnlyName = (typeof ONLY)[number];
/** The day-after-launch scenarios (issue 22), which `--all` adds to the default run. */
const DAY_AFTER_LAUNCH = ['storm', 'instances', 'pglite', 'feature', 'growth'] as const;
const only = parseOnly(process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length));

function parseOnly(value: string | undefined): OnlyName | undefined {
  if (value === undefined) return undefined;
  if (!(ONLY as readonly string[]).includes(value)) {
    process.stderr.write(`--only takes ${ONLY.join(', ')}; got "${value}"\n`);
    process.exit(2);
  }
  return value as OnlyName;
}
const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

/** One measured figure for each target (null where it does not apply). */
interface Figure {
  scenario: string;
  label: string;
  unit: string;
  /** Whether a larger value is better (for the ratio column's reading). */
  higherIsBetter: boolean;
  goal?: string;
  values: Partial<Record<TargetName, number | null>>;
}

const figures: Figure[] = [];
function record(figure: Omit<Figure, 'values'>, target: TargetName, value: number | null): void {
  let existing = figures.find((f) => f.scenario === figure.scenario && f.label === figure.label);
  if (!existing) {
    existing = { ...figure, values: {} };
    figures.push(existing);
  }
  existing.values[target] = value;
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

function recordPercentiles(scenario: string, label: string, target: TargetName, p: Percentiles | null, goal?: { p99?: string }, withMax = false): void {
  for (const q of withMax ? (['p50', 'p95', 'p99', 'max'] as const) : (['p50', 'p95', 'p99'] as const)) {
    record({ scenario, label: `${label} ${q}`, unit: 'ms', higherIsBetter: false, goal: q === 'p99' ? goal?.p99 : undefined }, target, p ? p[q] : null);
  }
}

/** Extra SVGs a scenario made (the growth curves), written beside the bar charts. */
const charts: Array<{ name: string; svg: string }> = [];
/** What the day-after-launch scenario files record into (report.ts). */
const report: Report = {
  size,
  seed: SEED,
  record,
  recordPercentiles: (scenario, label, target, p, options) => recordPercentiles(scenario, label, target, p, { p99: options?.goal }, options?.withMax),
  chart: (name, svg) => charts.push({ name, svg }),
  log,
};
const dayAfterLaunch: Record<(typeof DAY_AFTER_LAUNCH)[number], () => Promise<void>> = {
  storm: () => stormScenario(report),
  instances: () => instancesScenario(report),
  pglite: () => pgliteScenario(report),
  feature: () => featureScenario(report),
  growth: () => growthScenario(report),
};

/** Typing with 10 webhook endpoints against none, and how late deliveries come (webhooksScenario.ts). */
async function runWebhooksScenario(): Promise<void> {
  const { pooled, rounds } = await webhooksScenario({ rounds: quick ? 1 : 3, seconds: settings.seconds, seed: SEED, log });
  const scenario = 'webhooks';
  recordPercentiles(scenario, 'edit->peer, 10 clients @1000/s, no webhook (all rounds)', 'durable', pooled.none);
  recordPercentiles(scenario, 'edit->peer, 10 clients @1000/s, 10 webhook endpoints (all rounds)', 'durable', pooled.subscribed);
  record({ scenario, label: 'edit->peer p99, 10 endpoints / none (all rounds pooled)', unit: 'x', higherIsBetter: false, goal: '<= 1.1x' }, 'durable', pooled.ratio);
  record({ scenario, label: 'delivery latency p99 past the coalescing window, at the receiver (all rounds pooled)', unit: 'ms', higherIsBetter: false, goal: '< 1000 ms' }, 'durable', pooled.receiverPastWindow.p99);
  for (const [i, round] of rounds.entries()) {
    record({ scenario, label: `edit->peer p99, 10 endpoints / none, round ${i + 1}`, unit: 'x', higherIsBetter: false }, 'durable', round.subscribed.p99 / round.none.p99);
    record({ scenario, label: `delivery latency p99 past the coalescing window, at the receiver, round ${i + 1}`, unit: 'ms', higherIsBetter: false }, 'durable', round.receiverPastWindow.p99);
    record({ scenario, label: `delivery latency p99 past the coalescing window, server histogram bucket bound, round ${i + 1}`, unit: 'ms', higherIsBetter: false }, 'durable', round.deliveryPastWindowP99Ms);
  }
}

/** Background jobs beside live editing, jobs on against jobs off (jobsScenario.ts). */
async function runJobsScenario(): Promise<void> {
  const jobs = await jobsScenario({ rounds: quick ? 1 : 3, quick, seed: SEED, log });
  const { median } = jobs;
  const scenario = 'jobs';
  recordPercentiles(scenario, 'edit->peer, 10 clients @1000/s, jobs off (before the first passes)', 'durable', median.off);
  recordPercentiles(scenario, 'edit->peer, 10 clients @1000/s, jobs compacting and snapshotting', 'durable', median.on);
  recordPercentiles(scenario, 'edit->peer, 10 clients @1000/s, after the first passes (not compared)', 'durable', median.after);
  record({ scenario, label: 'edit->peer p99, jobs on / jobs off (median round)', unit: 'x', higherIsBetter: false, goal: '<= 1.5x' }, 'durable', median.ratio);
  for (const [i, round] of jobs.rounds.entries()) {
    record({ scenario, label: `edit->peer p99, jobs on / jobs off, round ${i + 1}`, unit: 'x', higherIsBetter: false }, 'durable', round.on.p99 / round.off.p99);
  }
  record({ scenario, label: 'jobs window (first compaction and snapshot passes, median round)', unit: 'ms', higherIsBetter: false }, 'durable', median.windowMs);
}

/** The two throughput runs: one scene with 10 clients, 100 scenes with one client each. */
async function measureThroughput(name: TargetName, target: Target, single: string, many: string[], token: string): Promise<void> {
  const one = await maxThroughput(target, { sceneIds: [single], clientsPerScene: 10, seconds: settings.seconds, window: 16, token, seed: SEED });
  record({ scenario: 'throughput', label: 'max updates/s, 1 scene x 10 clients', unit: 'updates/s', higherIsBetter: true, goal: '>= 80% of floor' }, name, one.updatesPerSecond);
  const hundred = await maxThroughput(target, { sceneIds: many, clientsPerScene: 1, seconds: settings.seconds, window: 16, token, seed: SEED });
  record({ scenario: 'throughput', label: 'max updates/s, 100 scenes x 1 client', unit: 'updates/s', higherIsBetter: true, goal: '>= 80% of floor' }, name, hundred.updatesPerSecond);
  log(`  throughput: ${one.updatesPerSecond.toFixed(0)} updates/s (1 scene), ${hundred.updatesPerSecond.toFixed(0)} updates/s (100 scenes)`);
}

/** `--only=throughput`: the throughput runs alone, on a database of their own, for each server `--order` names. */
async function runThroughputScenario(): Promise<void> {
  const db = await createTestDatabase('postgres');
  try {
    const fixture = await createScript(db.prisma, { scenes: 0, title: 'Benchmark' });
    const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
    const sceneIds: string[] = [];
    for (let position = 0; position < 101; position += 1) {
      sceneIds.push((await db.prisma.scene.create({ data: { scriptId: fixture.scriptId, position } })).sceneId);
    }
    const [single, ...many] = sceneIds as [string, ...string[]];
    for (const name of order) {
      const target = name === 'durable' ? await startDurable(db.databaseUrl!) : await startComparison(name, name === 'database' ? db.databaseUrl : undefined);
      try {
        await settleDatabase(db.databaseUrl!, log);
        log(`\n${target.label}`);
        await measureThroughput(name, target, single, many, token);
      } finally {
        await target.stop();
      }
    }
  } finally {
    await db.close();
  }
}

/** Honest editors of one scene alone, then beside one client flooding awareness (floodScenario.ts). */
async function runFloodScenario(): Promise<void> {
  const flood = await floodScenario({ seconds: settings.seconds, rounds: quick ? 1 : 5, seed: SEED });
  const { median } = flood;
  const scenario = 'flood';
  recordPercentiles(scenario, 'edit->peer, 5 clients @50/s, no flood (median round)', 'durable', median.quiet);
  recordPercentiles(scenario, 'edit->peer, 5 clients @50/s, one client flooding awareness (median round)', 'durable', median.flooded);
  record({ scenario, label: 'edit->peer p99, flooded / no flood (median round)', unit: 'x', higherIsBetter: false, goal: '<= 2x' }, 'durable', median.ratio);
  for (const [i, round] of flood.rounds.entries()) {
    record({ scenario, label: `edit->peer p99, flooded / no flood, round ${i + 1}`, unit: 'x', higherIsBetter: false }, 'durable', round.ratio);
    const closes = [...new Set(round.flooder.closes.map((c) => `${c.code} ${c.reason}`))];
    log(
      `  flood round ${i + 1}: edit->peer p99 ${round.quiet.p99.toFixed(1)} ms alone, ${round.flooded.p99.toFixed(1)} ms flooded (${round.ratio.toFixed(2)}x; goal <= 2x); ` +
        `p50 ${round.quiet.p50.toFixed(1)} -> ${round.flooded.p50.toFixed(1)} ms; ${round.quiet.count} and ${round.flooded.count} deliveries`,
    );
    log(`    flooder: ${round.flooder.sent} awareness updates over ${round.flooder.connections} sockets; closed with ${closes.length > 0 ? closes.join(' | ') : 'nothing'}`);
  }
  log(`  server counters: ${Object.entries(flood.refusals).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
}

/** A 120-scene script just edited by connected writers, then its listing read: REST copy follower off, then on (restFollowScenario.ts). */
async function runRestFollowScenario(): Promise<void> {
  const rest = await restFollowScenario({ rounds: quick ? 1 : 3, seed: SEED, log });
  const scenario = 'rest-follow';
  record({ scenario, label: 'GET scenes of a 120-scene script just edited by connected writers, follower off (median round p50)', unit: 'ms', higherIsBetter: false }, 'durable', rest.median.off.p50);
  record({ scenario, label: 'GET scenes of a 120-scene script just edited by connected writers, follower on (median round p50)', unit: 'ms', higherIsBetter: false, goal: '< 30 ms' }, 'durable', rest.median.on.p50);
  for (const [i, round] of rest.rounds.entries()) {
    record({ scenario, label: `GET scenes just edited, round ${i + 1}, follower off p50`, unit: 'ms', higherIsBetter: false }, 'durable', round.off.p50);
    record({ scenario, label: `GET scenes just edited, round ${i + 1}, follower on p50`, unit: 'ms', higherIsBetter: false }, 'durable', round.on.p50);
  }
}

/** A 120-scene, ~120-page FDX imported over HTTP, then exported as PDF and FDX (interchangeScenario.ts). */
async function runInterchangeScenario(): Promise<void> {
  const figures = await interchangeScenario({ repeats: quick ? 3 : 9, seed: SEED, log });
  const scenario = 'interchange';
  log(`  the file: 120 scenes, ${figures.pages} pages, ${(figures.fileBytes / 1024).toFixed(0)} KB of FDX`);
  record({ scenario, label: 'POST /api/scripts/import, 120-scene FDX, seeds included (p50)', unit: 'ms', higherIsBetter: false, goal: '< 2000 ms' }, 'durable', figures.importFdx.p50);
  record({ scenario, label: 'GET /api/scripts/:id/export?format=pdf, same script (p50)', unit: 'ms', higherIsBetter: false, goal: '< 1000 ms' }, 'durable', figures.exportPdf.p50);
  record({ scenario, label: 'GET /api/scripts/:id/export?format=fdx, same script (p50)', unit: 'ms', higherIsBetter: false }, 'durable', figures.exportFdx.p50);
  record({ scenario, label: 'import max', unit: 'ms', higherIsBetter: false }, 'durable', figures.importFdx.max);
  record({ scenario, label: 'PDF export max', unit: 'ms', higherIsBetter: false }, 'durable', figures.exportPdf.max);
}

async function main(): Promise<void> {
  log(
    `writersroom-collab benchmark (${size}${only ? `, only ${only}` : all ? ', all scenarios' : ''}${repeat > 1 ? `, ${repeat} runs` : ''}), ` +
      `${new Date().toISOString()}, node ${process.version}`,
  );
  buildServer();
  const runs: Figure[][] = [];
  for (let run = 1; run <= repeat; run += 1) {
    if (repeat > 1) log(`\n=== run ${run} of ${repeat}`);
    if (only) {
      const scenarios = { core: () => runDefault({ sideScenarios: false }), jobs: runJobsScenario, throughput: runThroughputScenario, flood: runFloodScenario, rest: runRestFollowScenario, interchange: runInterchangeScenario, webhooks: runWebhooksScenario };
      await { ...scenarios, ...dayAfterLaunch }[only]();
    } else {
      await runDefault();
      if (all) for (const name of DAY_AFTER_LAUNCH) await dayAfterLaunch[name]();
    }
    runs.push(figures.splice(0));
    // Only the last run's extra charts are kept: the medians' bar charts stand for all of them.
    if (run < repeat) charts.splice(0);
  }
  const summaries = summarize(runs);
  printTable(summaries);
  await writeResults(summaries, runs);
}

/** The default run: every server through throughput, latency, durability, load, REST and memory, then compaction, jobs, flood and REST follow. */
async function runDefault(options: { sideScenarios: boolean } = { sideScenarios: true }): Promise<void> {
  const db = await createTestDatabase('postgres');
  const sql = db.database.sql;
  const fixture = await createScript(db.prisma, { scenes: 0, title: 'Benchmark' });
  const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
  let nextPosition = 0;
  const newScenes = async (count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const scene = await db.prisma.scene.create({ data: { scriptId: fixture.scriptId, position: nextPosition++ } });
      ids.push(scene.sceneId);
    }
    return ids;
  };
  const [single] = await newScenes(1);
  const many = await newScenes(100);
  const [latency10] = await newScenes(1);
  const latency100 = await newScenes(10);
  const [durableScene] = await newScenes(1);
  const memoryScenes = await newScenes(settings.memoryScenes);
  // A long script for the REST side: 120 scenes, each with a log of typing to derive from.
  const longScript = await createScript(db.prisma, { ownerId: fixture.userId, scenes: 120, title: 'Long script' });
  for (const [i, sceneId] of longScript.sceneIds.entries()) await populateScene(sql, sceneId, 300, SEED + 7000 + i);

  log('preparing scenes to load (uncompacted and compacted logs; whole states for the database extension)');
  const pool = new pg.Pool({ connectionString: db.databaseUrl, max: 2 });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_documents (name text PRIMARY KEY, data bytea NOT NULL)');
  const loadScenes: Array<{ size: number; uncompacted: string; compacted: string; firstOpens: string[] }> = [];
  for (const size of settings.loadSizes) {
    const [uncompacted, compacted] = (await newScenes(2)) as [string, string];
    const updates = await populateScene(sql, uncompacted, size, SEED + size);
    await storeUpdates(sql, compacted, updates);
    await compactFully(sql, compacted);
    await pool.query('INSERT INTO bench_documents (name, data) VALUES ($1, $2)', [uncompacted, Buffer.from(fullState(updates))]);
    // Copies of the uncompacted scene, each opened once: a server that has not loaded a scene
    // before checks every stored update (reopening checks only what was appended since).
    const firstOpens = size <= 10_000 ? await newScenes(settings.repeats) : [];
    for (const sceneId of firstOpens) await storeUpdates(sql, sceneId, updates);
    loadScenes.push({ size, uncompacted, compacted, firstOpens });
  }
  const memoryUpdates = await populateScene(sql, memoryScenes[0]!, 1000, SEED);
  const memoryContent = fullState(memoryUpdates);
  for (const sceneId of memoryScenes.slice(1)) await storeUpdates(sql, sceneId, memoryUpdates);
  for (const sceneId of memoryScenes) await pool.query('INSERT INTO bench_documents (name, data) VALUES ($1, $2)', [sceneId, Buffer.from(memoryContent)]);
  await pool.end();

  const runTarget = async (name: TargetName, target: Target) => {
    try {
      await settleDatabase(db.databaseUrl!, log);
      log(`\n${target.label}`);
      await measureThroughput(name, target, single!, many, token);
      // The throughput runs wrote a few hundred thousand updates in seconds; the checkpoint and
      // autovacuum they set off would otherwise land in the latency runs that follow.
      await settleDatabase(db.databaseUrl!, log);

      for (const rate of settings.rates) {
        const before = await readCommitHistograms(target);
        const ten = await peerLatency(target, { sceneId: latency10!, clients: 10, rate, seconds: settings.seconds, token, seed: SEED });
        const after = await readCommitHistograms(target);
        recordPercentiles('latency', `edit->peer, 10 clients @${rate}/s`, name, ten, { p99: rate === 1000 ? '<= 2x floor' : undefined });
        log(`  edit->peer 10 clients @${rate}/s: p50 ${ten.p50.toFixed(2)} p99 ${ten.p99.toFixed(2)} ms`);
        // The server's own view of the same run (issue 22): the tail from commits, or from waiting behind them.
        if (before && after) {
          const server = commitFigures(before, after);
          for (const q of ['p50', 'p99'] as const) {
            record({ scenario: 'latency', label: `@${rate}/s: server commit time ${q}`, unit: 'ms', higherIsBetter: false }, name, server.commitSeconds[q]);
            record({ scenario: 'latency', label: `@${rate}/s: server queue wait before the batch ${q}`, unit: 'ms', higherIsBetter: false }, name, server.queueWaitSeconds[q]);
            record({ scenario: 'latency', label: `@${rate}/s: server batch size ${q}`, unit: 'updates', higherIsBetter: false }, name, server.batchSize[q]);
          }
          log(
            `    server: commit p50/p99 ${server.commitSeconds.p50.toFixed(2)}/${server.commitSeconds.p99.toFixed(2)} ms, ` +
              `queue wait ${server.queueWaitSeconds.p50.toFixed(2)}/${server.queueWaitSeconds.p99.toFixed(2)} ms, batch ${server.batchSize.p50.toFixed(1)}/${server.batchSize.p99.toFixed(1)}`,
          );
        }
      }
      const hundredClients = await Promise.all(
        latency100.map((sceneId, i) => peerLatency(target, { sceneId, clients: 10, rate: 100, seconds: settings.seconds, token, seed: SEED + i })),
      );
      const merged = hundredClients.reduce((worst, p) => (p.p99 > worst.p99 ? p : worst));
      recordPercentiles('latency', 'edit->peer, 100 clients (10 scenes) @1000/s, worst scene', name, merged);
      log(`  edit->peer 100 clients: worst scene p99 ${merged.p99.toFixed(2)} ms`);

      const durable = await editToDurable(target, { sceneId: durableScene!, clients: 10, rate: 1000, seconds: settings.seconds, token, seed: SEED });
      recordPercentiles('durability', 'edit->durable @1000/s', name, durable, { p99: '< 20 ms' });
      if (durable) log(`  edit->durable @1000/s: p50 ${durable.p50.toFixed(1)} p99 ${durable.p99.toFixed(1)} ms`);

      for (const { size, uncompacted, compacted, firstOpens } of loadScenes) {
        const goal = size === 10_000 ? '< 60 ms' : undefined;
        const plain = name === 'floor' ? null : await connectToSynced(target, { sceneId: uncompacted, repeats: settings.repeats, token });
        record({ scenario: 'load', label: `connect-to-synced p50, ${size} updates, uncompacted`, unit: 'ms', higherIsBetter: false, goal }, name, plain?.p50 ?? null);
        const first = name === 'durable' && firstOpens.length > 0 ? await connectToEachOnce(target, firstOpens, token) : null;
        if (firstOpens.length > 0) {
          record({ scenario: 'load', label: `connect-to-synced p50, ${size} updates, uncompacted, first open`, unit: 'ms', higherIsBetter: false }, name, first?.p50 ?? null);
        }
        const packed = name === 'durable' ? await connectToSynced(target, { sceneId: compacted, repeats: settings.repeats, token }) : null;
        record({ scenario: 'load', label: `connect-to-synced p50, ${size} updates, compacted`, unit: 'ms', higherIsBetter: false, goal: size === 10_000 ? '< 10 ms' : undefined }, name, packed?.p50 ?? null);
        if (plain) {
          const extra = [first ? `first open ${first.p50.toFixed(1)} ms` : '', packed ? `compacted ${packed.p50.toFixed(1)} ms` : ''].filter(Boolean);
          log(`  connect-to-synced ${size}: ${plain.p50.toFixed(1)} ms${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`);
        }
      }

      if (name === 'durable') {
        const rest = await restScenario(target, { prisma: db.prisma, sql, scriptId: longScript.scriptId, sceneIds: longScript.sceneIds, token, repeats: settings.repeats });
        record({ scenario: 'rest', label: 'GET scenes of a 120-scene script, no snapshots (p50)', unit: 'ms', higherIsBetter: false }, name, rest.listWithoutSnapshots.p50);
        record({ scenario: 'rest', label: 'snapshot generation per scene (p50)', unit: 'ms', higherIsBetter: false }, name, rest.snapshotPerScene.p50);
        record({ scenario: 'rest', label: 'snapshot generation per scene (p95)', unit: 'ms', higherIsBetter: false }, name, rest.snapshotPerScene.p95);
        record({ scenario: 'rest', label: 'snapshots of all 120 scenes', unit: 'ms', higherIsBetter: false }, name, rest.snapshotAllSeconds * 1000);
        record({ scenario: 'rest', label: 'GET scenes of a 120-scene script, snapshots current (p50)', unit: 'ms', higherIsBetter: false }, name, rest.listWithSnapshots.p50);
        log(`  GET 120 scenes: ${rest.listWithoutSnapshots.p50.toFixed(1)} ms without snapshots, ${rest.listWithSnapshots.p50.toFixed(1)} ms with; snapshot ${rest.snapshotPerScene.p50.toFixed(1)} ms per scene`);
      }

      const memory = await memoryPerScene(target, {
        sceneIds: memoryScenes,
        token,
        seedContent: name === 'floor' ? memoryContent : undefined,
        cycles: settings.memoryCycles,
      });
      record({ scenario: 'memory', label: 'heap per loaded scene (1,000 updates)', unit: 'KiB', higherIsBetter: false }, name, memory.perSceneBytes / 1024);
      record({ scenario: 'memory', label: `heap left after ${memoryScenes.length} scenes unload`, unit: 'KiB', higherIsBetter: false }, name, memory.afterUnloadBytes / 1024);
      record({ scenario: 'memory', label: `heap growth over ${settings.memoryCycles} more load/unload cycles`, unit: 'KiB', higherIsBetter: false }, name, memory.growthOverCyclesBytes / 1024);
      log(
        `  memory: ${(memory.perSceneBytes / 1024).toFixed(0)} KiB per scene, ${(memory.afterUnloadBytes / 1024).toFixed(0)} KiB left after unload, ` +
          `${(memory.growthOverCyclesBytes / 1024).toFixed(0)} KiB growth over ${settings.memoryCycles} cycles`,
      );
    } finally {
      await target.stop();
    }
  };

  try {
    for (const name of order) {
      const target = name === 'durable' ? await startDurable(db.databaseUrl!) : await startComparison(name, name === 'database' ? db.databaseUrl : undefined);
      await runTarget(name, target);
    }

    log('\ncompaction');
    const compactionIds = await newScenes(settings.compactionScenes);
    const compaction = await compactionThroughput(sql, compactionIds, 1000, SEED);
    record({ scenario: 'compaction', label: 'scenes of 1,000 updates compacted per minute', unit: 'scenes/min', higherIsBetter: true, goal: '>= 1,000' }, 'durable', compaction.scenesPerMinute);
    record({ scenario: 'compaction', label: 'log bytes before compaction (per scene)', unit: 'bytes', higherIsBetter: false }, 'durable', compaction.bytesBefore / compactionIds.length);
    record({ scenario: 'compaction', label: 'log bytes after compaction (per scene)', unit: 'bytes', higherIsBetter: false }, 'durable', compaction.bytesAfter / compactionIds.length);
    log(`  ${compaction.scenesPerMinute.toFixed(0)} scenes/min; ${(compaction.bytesBefore / compactionIds.length).toFixed(0)} -> ${(compaction.bytesAfter / compactionIds.length).toFixed(0)} bytes per scene`);
  } finally {
    await db.close();
  }
  if (!options.sideScenarios) return;
  await runJobsScenario();
  await runFloodScenario();
  await runRestFollowScenario();
}

/** The median of values, and their range; null when there are none. */
interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(values: Array<number | null | undefined>): Spread | null {
  const present = values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v)).sort((a, b) => a - b);
  if (present.length === 0) return null;
  // The lower median of an even count: a value some run measured, not an average of two.
  return { median: present[Math.floor((present.length - 1) / 2)]!, min: present[0]!, max: present.at(-1)! };
}

/** A figure over the runs: its median values, and for each value and ratio the median and range. */
interface Summary {
  figure: Figure;
  values: Partial<Record<TargetName, Spread | null>>;
  vsFloor: Spread | null;
  vsDatabase: Spread | null;
}

function summarize(runs: Figure[][]): Summary[] {
  const summaries: Summary[] = [];
  for (const f of runs.flat()) {
    if (summaries.some((s) => s.figure.scenario === f.scenario && s.figure.label === f.label)) continue;
    const same = runs.map((figs) => figs.find((g) => g.scenario === f.scenario && g.label === f.label));
    const values: Summary['values'] = {};
    for (const t of TARGETS) if (same.some((g) => g && t in g.values)) values[t] = spread(same.map((g) => g?.values[t]));
    const ratioOf = (other: TargetName) => spread(same.map((g) => (g && typeof g.values.durable === 'number' && g.values[other] ? g.values.durable / g.values[other]! : null)));
    const medians = Object.fromEntries(Object.entries(values).map(([t, v]) => [t, v?.median ?? null]));
    summaries.push({ figure: { ...f, values: medians }, values, vsFloor: ratioOf('floor'), vsDatabase: ratioOf('database') });
  }
  return summaries;
}

function printTable(summaries: Summary[]): void {
  const number = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
  const cell = (v: Spread | null | undefined) => (!v ? '-' : repeat > 1 && v.min !== v.max ? `${number(v.median)} (${number(v.min)}-${number(v.max)})` : number(v.median));
  const ratio = (r: Spread | null) => (!r ? '-' : repeat > 1 ? `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)}x)` : `${r.median.toFixed(2)}x`);
  const rows = [['figure', 'floor', 'database ext', 'writersroom', 'vs floor', 'vs database', 'goal']];
  if (repeat > 1) log(`\nmedians of ${repeat} runs, (min-max) where the runs differ`);
  for (const { figure: f, values, vsFloor, vsDatabase } of summaries) {
    rows.push([`${f.label} (${f.unit})`, cell(values.floor), cell(values.database), cell(values.durable), ratio(vsFloor), ratio(vsDatabase), f.goal ?? '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  log(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')}`);
}

async function writeResults(summaries: Summary[], runs: Figure[][]): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(resultsDir, stamp);
  await mkdir(dir, { recursive: true });
  const figures = summaries.map((s) => s.figure);
  const json = { quick, size, only, all, repeat, settings, seed: SEED, node: process.version, figures, spreads: summaries, runs: repeat > 1 ? runs : undefined };
  await writeFile(path.join(dir, 'results.json'), JSON.stringify(json, null, 2));
  for (const { name, svg } of charts) await writeFile(path.join(dir, `${name}.svg`), svg);
  const names: Record<TargetName, string> = { floor: 'Hocuspocus, no persistence', database: 'Hocuspocus + extension-database', durable: 'writersroom' };
  for (const scenario of [...new Set(figures.map((f) => f.scenario))]) {
    const subset = figures.filter((f) => f.scenario === scenario);
    const unit = [...new Set(subset.map((f) => f.unit))].join(', ');
    const rows: ChartRow[] = subset.map((f) => ({
      label: f.label,
      values: TARGETS.filter((t) => t in f.values).map((t) => ({ series: names[t], value: f.values[t] ?? null })),
    }));
    await writeFile(path.join(dir, `${scenario}.svg`), barChart(scenario, unit, rows));
  }
  log(`\nresults written to ${path.relative(process.cwd(), dir)}/`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
