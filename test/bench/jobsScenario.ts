/**
 * Background jobs beside live editing (issue 16, item 3): edit->peer latency at 1,000 updates/s
 * while this server's own scheduled jobs compact a 100,000-update scene and snapshot a 120-scene
 * script, against the same run with the jobs off. The goal is a p99 with jobs on of at most 1.5x
 * the p99 with jobs off.
 *
 * Each round gets a fresh database holding the same work (a 100,000-update scene that the hot
 * trigger compacts, 120 scenes of 300 typing updates with no snapshot yet) and runs the server
 * twice on it: jobs off, then jobs on. With jobs on, the figure is taken over exactly the time the
 * jobs' first passes were working, read from the server's own "background job pass finished" log
 * lines (their time and duration); with jobs off, over a window of the same length after the same
 * warm-up. Retention and divergence stay off: the scenario is the two jobs named above.
 */
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { closeClients, openClients, percentiles, samplePeerLatency, type Percentiles } from './scenarios.ts';
import { settleDatabase, storeUpdates } from './storage.ts';
import { startDurable, type Target } from './targets.ts';
import { typingUpdates } from './workload.ts';

export interface JobsRound {
  off: Percentiles;
  on: Percentiles;
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
 * The jobs' interval: a scheduler starts each job between half and all of it after start, so the
 * first passes begin once the editors have connected and warmed up.
 */
const JOB_INTERVAL_MS = 5000;
const WARM_UP_MS = 1000;
/** A round gives up when the first passes have not finished by then. */
const MAX_WAIT_MS = 180_000;

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

/** Typing by `CLIENTS` editors of one scene until `done` says so; every sample with its send time. */
async function typeUntil(target: Target, sceneId: string, token: string, seed: number, done: () => boolean): Promise<{ samples: Array<{ sentAt: number; latencyMs: number }>; typingFrom: number }> {
  const clients = await openClients(target, [sceneId], CLIENTS, token);
  const sampler = samplePeerLatency(clients, { rate: RATE, seed, recording: () => true });
  const typingFrom = Date.now();
  const deadline = typingFrom + MAX_WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) {
      sampler.stop();
      closeClients(clients);
      throw new Error(`the jobs' first passes did not finish within ${MAX_WAIT_MS / 1000} s`);
    }
    await sleep(100);
  }
  sampler.stop();
  await sleep(500);
  closeClients(clients);
  return { samples: sampler.samples, typingFrom };
}

async function oneRound(round: number, work: { large: Uint8Array[]; script: Uint8Array[][] }, seed: number, log: (line: string) => void): Promise<JobsRound> {
  const db = await createTestDatabase('postgres');
  try {
    const sql = db.database.sql;
    const fixture = await createScript(db.prisma, { scenes: 3, title: 'Jobs benchmark' });
    const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
    const [typedWithJobs, typedWithoutJobs, largeScene] = fixture.sceneIds as [string, string, string];
    await storeUpdates(sql, largeScene, work.large);
    const script = await createScript(db.prisma, { ownerId: fixture.userId, scenes: SCRIPT_SCENES, title: 'Long script' });
    for (const [i, sceneId] of script.sceneIds.entries()) await storeUpdates(sql, sceneId, work.script[i]!);
    await settleDatabase(db.databaseUrl!, log);

    // Jobs on first; its window is the one the run with jobs off is measured over.
    const on = await startDurable(db.databaseUrl!, {
      JOBS_ENABLED: 'true',
      LOG_LEVEL: 'info',
      COMPACTION_INTERVAL_MS: String(JOB_INTERVAL_MS),
      SNAPSHOT_INTERVAL_MS: String(JOB_INTERVAL_MS),
      RETENTION_INTERVAL_MS: '0',
      DIVERGENCE_INTERVAL_MS: '0',
    });
    let passes: PassLine[] = [];
    const firstPasses = () => JOBS.map((job) => passes.find((pass) => pass.job === job));
    let typed;
    try {
      typed = await typeUntil(on, typedWithJobs, token, seed + round, () => {
        passes = passesIn(on.output!());
        return firstPasses().every((pass) => pass !== undefined);
      });
    } finally {
      await on.stop();
    }
    const first = firstPasses() as PassLine[];
    const from = Math.min(...first.map((pass) => pass.startedAt));
    const to = Math.max(...first.map((pass) => pass.finishedAt));
    if (from < typed.typingFrom + WARM_UP_MS) log(`  (round ${round}: a job started ${typed.typingFrom + WARM_UP_MS - from} ms before the warm-up ended)`);
    const onFigures = percentiles(typed.samples.filter((s) => s.sentAt >= from && s.sentAt <= to).map((s) => s.latencyMs));
    const windowMs = to - from;

    // The jobs' writes (100,000 rows marked, 120 snapshots) would set off autovacuum in the next run.
    await settleDatabase(db.databaseUrl!, log);
    const off = await startDurable(db.databaseUrl!, { JOBS_ENABLED: 'false' });
    let offTyped;
    let offFrom = 0;
    try {
      let started = 0;
      offTyped = await typeUntil(off, typedWithoutJobs, token, seed + round, () => {
        started ||= Date.now();
        return Date.now() - started >= WARM_UP_MS + windowMs;
      });
      offFrom = offTyped.typingFrom + WARM_UP_MS;
    } finally {
      await off.stop();
    }
    const offFigures = percentiles(offTyped.samples.filter((s) => s.sentAt >= offFrom && s.sentAt <= offFrom + windowMs).map((s) => s.latencyMs));
    const passMs = Object.fromEntries(JOBS.map((job, i) => [job, first[i]!.finishedAt - first[i]!.startedAt])) as JobsRound['passMs'];
    log(
      `  round ${round}: jobs off p99 ${offFigures.p99.toFixed(1)} ms, jobs on p99 ${onFigures.p99.toFixed(1)} ms ` +
        `(${(onFigures.p99 / offFigures.p99).toFixed(2)}x) over ${(windowMs / 1000).toFixed(1)} s; ` +
        `${JOBS.map((job) => `${job} pass ${(passMs[job] / 1000).toFixed(1)} s`).join(', ')}; ${onFigures.count} / ${offFigures.count} samples`,
    );
    return { off: offFigures, on: onFigures, windowMs, passMs };
  } finally {
    await db.close();
  }
}

export async function jobsScenario(options: { rounds: number; seed: number; log: (line: string) => void }): Promise<JobsFigures> {
  options.log(`\njobs on vs off (${options.rounds} rounds): compaction of a ${LARGE_SCENE_UPDATES.toLocaleString('en')}-update scene and snapshots of a ${SCRIPT_SCENES}-scene script`);
  const work = {
    large: typingUpdates(LARGE_SCENE_UPDATES, options.seed + 9000),
    script: Array.from({ length: SCRIPT_SCENES }, (_, i) => typingUpdates(UPDATES_PER_SCRIPT_SCENE, options.seed + 7000 + i)),
  };
  const rounds: JobsRound[] = [];
  for (let round = 1; round <= options.rounds; round += 1) rounds.push(await oneRound(round, work, options.seed, options.log));
  const ratio = (r: JobsRound) => r.on.p99 / r.off.p99;
  const sorted = [...rounds].sort((a, b) => ratio(a) - ratio(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { rounds, median: { ...median, ratio: ratio(median) } };
}
