/**
 * Background jobs beside live editing (issue 16, item 3): edit->peer latency at 1,000 updates/s
 * while this server's own scheduled jobs compact a 100,000-update scene and snapshot a 120-scene
 * script, against the same run with the jobs off. The goal is a p99 with jobs on of at most 1.5x
 * the p99 with jobs off.
 *
 * Each round gets a fresh database holding the same work (a 100,000-update scene that the hot
 * trigger compacts, 120 scenes of 300 typing updates with no snapshot yet) and starts one server
 * on it, with the jobs on and their first passes due 30-60 s after start (the scheduler's initial
 * delay; the interval is long enough that no second pass comes within the round). Ten editors type
 * from the start to a few seconds after the first passes have finished. Both figures come from that
 * one process, its connections and its warm code:
 * - jobs on: the samples sent while the first compaction and snapshot passes were working, read
 *   from the server's own "background job pass finished" log lines (their time and duration);
 * - jobs off: the samples sent after a warm-up and before the first pass started.
 * The samples after the passes are reported beside them but not compared: the jobs' own aftermath
 * (autovacuum of 100,000 marked rows) would count there as the jobs-off figure.
 * Retention and divergence stay off: the scenario is the two jobs named above.
 */
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { closeClients, openClients, percentiles, samplePeerLatency, type Percentiles } from './scenarios.ts';
import { commitFigures, describeCommitFigures, loopLagMaxMs, parseCommitHistograms, type HistogramReading } from './serverHistograms.ts';
import { settleDatabase, storeUpdates } from './storage.ts';
import { startDurable, type Target } from './targets.ts';
import { typingUpdates } from './workload.ts';

export interface JobsRound {
  off: Percentiles;
  on: Percentiles;
  /** After the passes ended (reported, not compared: autovacuum of the marked rows counts here). */
  after: Percentiles;
  /** How long the jobs' first passes were working (the window both figures are taken over). */
  windowMs: number;
  /** Duration of each job's first pass. */
  passMs: Record<(typeof JOBS)[number], number>;
}

export interface JobsFigures {
  rounds: JobsRound[];
  /** The round with the median ratio of p99s (jobs on / jobs off). */
  median: JobsRound & { ratio: number };
}

const JOBS = ['compaction', 'snapshot'] as const;
const CLIENTS = 10;
const RATE = 1000;
const LARGE_SCENE_UPDATES = 100_000;
const SCRIPT_SCENES = 120;
const UPDATES_PER_SCRIPT_SCENE = 300;
/**
 * The jobs' interval. The scheduler starts each job's first pass between half and all of
 * min(interval, 60 s) after start, so between 30 and 60 s: the jobs-off window. The next pass
 * comes an interval after the first ends, well after the round. A quick run (`--quick`) takes
 * 40 s: the first passes start 20-40 s in, the next ones at least 36 s after the first end, later
 * than the 10 s measured after them.
 */
const JOB_INTERVAL_MS = { full: 10 * 60_000, quick: 40_000 };
/** Typing before the jobs-off window starts (JIT, connections, the first commits). */
const WARM_UP_MS = 5000;
/** A round gives up when the first passes have not finished by then. */
const MAX_WAIT_MS = 300_000;
/** Typing after the first passes end (reported, not compared). */
const AFTER_MS = 10_000;
/**
 * The editors move to a fresh scene every segment, so that a window's figure is the jobs' doing,
 * not the typed document's length: at 1,000 updates/s one scene would hold 100,000 updates by the
 * end of a round, and the latency of typing into it grows with it.
 */
const SEGMENT_MS = 10_000;
const SEGMENT_WARM_UP_MS = 500;
const SEGMENTS = Math.ceil(MAX_WAIT_MS / SEGMENT_MS) + 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PassLine {
  job: string;
  startedAt: number;
  finishedAt: number;
}

/** The server's "background job pass finished" lines: when each pass started and ended. */
function passesIn(output: string): PassLine[] {
  const passes: PassLine[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('background job pass finished')) continue;
    const entry = JSON.parse(line) as { job: string; durationMs: number; time: string };
    const finishedAt = Date.parse(entry.time);
    passes.push({ job: entry.job, startedAt: finishedAt - entry.durationMs, finishedAt });
  }
  return passes;
}

interface Typed {
  samples: Array<{ sentAt: number; latencyMs: number }>;
  typingFrom: number;
  /**
   * The server's commit histograms about every second, and the longest event loop delay since
   * the previous reading.
   */
  readings: Array<{ at: number; reading: HistogramReading; loopLagMaxMs: number }>;
}

/** The server's commit figures between the first reading at or after `from` and the last at or before `to`. */
function commitBetween(readings: Typed['readings'], from: number, to: number): string {
  const inside = readings.filter((r) => r.at >= from && r.at <= to);
  if (inside.length < 2) return 'commit histograms: too few readings';
  return describeCommitFigures(commitFigures(inside[0]!.reading, inside.at(-1)!.reading));
}

/**
 * Typing by `CLIENTS` editors until `done` says so, in segments of `SEGMENT_MS`, each on the next
 * of `sceneIds` (fresh, empty scenes): every sample with its send time. A segment's first
 * `SEGMENT_WARM_UP_MS` are not recorded (the connections are new).
 */
async function typeUntil(target: Target, sceneIds: readonly string[], token: string, seed: number, done: () => boolean): Promise<Typed> {
  const samples: Array<{ sentAt: number; latencyMs: number }> = [];
  const readings: Typed['readings'] = [];
  const typingFrom = Date.now();
  const deadline = typingFrom + MAX_WAIT_MS;
  const scrape = async () => {
    const text = await (await fetch(`${target.httpUrl}/metrics`)).text();
    readings.push({ at: Date.now(), reading: parseCommitHistograms(text), loopLagMaxMs: loopLagMaxMs(text) });
  };
  for (const [segment, sceneId] of sceneIds.entries()) {
    const clients = await openClients(target, [sceneId], CLIENTS, token);
    const segmentFrom = Date.now();
    const sampler = samplePeerLatency(clients, { rate: RATE, seed: seed + segment, recording: () => Date.now() - segmentFrom >= SEGMENT_WARM_UP_MS });
    let finished = false;
    await scrape();
    let scrapedAt = Date.now();
    while (Date.now() - segmentFrom < SEGMENT_MS && !(finished = done())) {
      await sleep(100);
      if (Date.now() - scrapedAt >= 1000) {
        await scrape();
        scrapedAt = Date.now();
      }
    }
    sampler.stop();
    await sleep(500);
    closeClients(clients);
    for (const sample of sampler.samples) samples.push(sample);
    if (finished) return { samples, typingFrom, readings };
    if (Date.now() > deadline) throw new Error(`the jobs' first passes did not finish within ${MAX_WAIT_MS / 1000} s`);
  }
  throw new Error(`the jobs' first passes did not finish within ${sceneIds.length} segments of typing`);
}

async function oneRound(round: number, work: { large: Uint8Array[]; script: Uint8Array[][] }, options: { seed: number; quick: boolean; log: (line: string) => void }): Promise<JobsRound> {
  const { seed, log } = options;
  const interval = JOB_INTERVAL_MS[options.quick ? 'quick' : 'full'];
  const db = await createTestDatabase('postgres');
  try {
    const sql = db.database.sql;
    const fixture = await createScript(db.prisma, { scenes: 1 + SEGMENTS, title: 'Jobs benchmark' });
    const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
    const [largeScene, ...typed] = fixture.sceneIds as [string, ...string[]];
    await storeUpdates(sql, largeScene, work.large);
    const script = await createScript(db.prisma, { ownerId: fixture.userId, scenes: SCRIPT_SCENES, title: 'Long script' });
    for (const [i, sceneId] of script.sceneIds.entries()) await storeUpdates(sql, sceneId, work.script[i]!);
    await settleDatabase(db.databaseUrl!, log);

    const server = await startDurable(db.databaseUrl!, {
      JOBS_ENABLED: 'true',
      LOG_LEVEL: 'info',
      COMPACTION_INTERVAL_MS: String(interval),
      SNAPSHOT_INTERVAL_MS: String(interval),
      RETENTION_INTERVAL_MS: '0',
      DIVERGENCE_INTERVAL_MS: '0',
    });
    let passes: PassLine[] = [];
    const firstPasses = () => JOBS.map((job) => passes.find((pass) => pass.job === job));
    let endedAt = 0;
    let typing;
    try {
      typing = await typeUntil(server, typed, token, seed + round, () => {
        passes = passesIn(server.output!());
        if (firstPasses().some((pass) => pass === undefined)) return false;
        endedAt ||= Date.now();
        return Date.now() - endedAt >= AFTER_MS;
      });
    } finally {
      await server.stop();
    }
    const first = firstPasses() as PassLine[];
    const from = Math.min(...first.map((pass) => pass.startedAt));
    const to = Math.max(...first.map((pass) => pass.finishedAt));
    const offFrom = typing.typingFrom + WARM_UP_MS;
    if (from - offFrom < 10_000) throw new Error(`round ${round}: the first pass started ${from - typing.typingFrom} ms after typing began, leaving no jobs-off window`);
    const within = (lo: number, hi: number) => percentiles(typing.samples.filter((s) => s.sentAt >= lo && s.sentAt < hi).map((s) => s.latencyMs));
    const off = within(offFrom, from);
    const on = within(from, to + 1);
    const after = within(to + 1, to + 1 + AFTER_MS);
    const windowMs = to - from;
    const passMs = Object.fromEntries(JOBS.map((job, i) => [job, first[i]!.finishedAt - first[i]!.startedAt])) as JobsRound['passMs'];
    log(
      `  round ${round}: jobs off p99 ${off.p99.toFixed(1)} ms over ${((from - offFrom) / 1000).toFixed(1)} s, ` +
        `jobs on p99 ${on.p99.toFixed(1)} ms over ${(windowMs / 1000).toFixed(1)} s (${(on.p99 / off.p99).toFixed(2)}x), ` +
        `after the passes p99 ${after.p99.toFixed(1)} ms; ` +
        `${JOBS.map((job) => `${job} pass ${(passMs[job] / 1000).toFixed(1)} s`).join(', ')}; ${off.count} / ${on.count} / ${after.count} samples`,
    );
    const snapshotPass = first[JOBS.indexOf('snapshot')]!;
    const duringSnapshot = (sentAt: number) => sentAt >= snapshotPass.startedAt && sentAt <= snapshotPass.finishedAt;
    const rest = percentiles(typing.samples.filter((s) => s.sentAt >= from && s.sentAt <= to && !duringSnapshot(s.sentAt)).map((s) => s.latencyMs));
    log(`    during the snapshot pass p99 ${within(snapshotPass.startedAt, snapshotPass.finishedAt + 1).p99.toFixed(1)} ms; the rest of the window (compaction alone) p99 ${rest.p99.toFixed(1)} ms`);
    const lags = (lo: number, hi: number) => {
      const values = typing.readings.filter((r) => r.at > lo && r.at <= hi).map((r) => r.loopLagMaxMs).sort((a, b) => a - b);
      return `longest loop delay per second: median ${values[Math.floor(values.length / 2)]?.toFixed(0)} ms, max ${values.at(-1)?.toFixed(0)} ms`;
    };
    log(`    jobs off: ${commitBetween(typing.readings, offFrom, from)}; ${lags(offFrom, from)}`);
    log(`    jobs on: ${commitBetween(typing.readings, from, to)}; ${lags(from, to)}`);
    // Second by second through the window, for the tail's place in the passes.
    const seconds: string[] = [];
    for (let at = from; at < to; at += 1000) {
      const second = within(at, at + 1000);
      // The reading after this second holds the longest loop delay in it (give or take its start).
      const lag = typing.readings.find((r) => r.at >= at + 1000)?.loopLagMaxMs ?? Number.NaN;
      if (second.p99 >= 2 * off.p99) seconds.push(`+${((at - from) / 1000).toFixed(0)} s ${second.p99.toFixed(0)} ms (loop ${lag.toFixed(0)} ms${duringSnapshot(at) ? ', snapshot' : ''})`);
    }
    log(`    seconds with a p99 over twice the jobs-off one: ${seconds.length} of ${Math.ceil(windowMs / 1000)}${seconds.length > 0 ? `: ${seconds.join(', ')}` : ''}`);
    return { off, on, after, windowMs, passMs };
  } finally {
    await db.close();
  }
}

export async function jobsScenario(options: { rounds: number; quick: boolean; seed: number; log: (line: string) => void }): Promise<JobsFigures> {
  options.log(`\njobs on vs off (${options.rounds} rounds): compaction of a ${LARGE_SCENE_UPDATES.toLocaleString('en')}-update scene and snapshots of a ${SCRIPT_SCENES}-scene script`);
  const work = {
    large: typingUpdates(LARGE_SCENE_UPDATES, options.seed + 9000),
    script: Array.from({ length: SCRIPT_SCENES }, (_, i) => typingUpdates(UPDATES_PER_SCRIPT_SCENE, options.seed + 7000 + i)),
  };
  const rounds: JobsRound[] = [];
  for (let round = 1; round <= options.rounds; round += 1) rounds.push(await oneRound(round, work, options));
  const ratio = (r: JobsRound) => r.on.p99 / r.off.p99;
  const sorted = [...rounds].sort((a, b) => ratio(a) - ratio(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { rounds, median: { ...median, ratio: ratio(median) } };
}
