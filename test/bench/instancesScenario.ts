/**
 * `--only=instances`: two and three instances behind one Redis (issue 22, item 2), for this
 * project's server (`REDIS_URL`) and for both alternatives with @hocuspocus/extension-redis. The
 * editors of one scene are spread over the instances (client i on instance i mod n). Figures:
 * edit->peer between clients on different instances at 1,000 updates/s, the maximum sustained
 * updates/s of editors spread the same way, and for this project the log rows per update of that
 * run and the updates those rows stand for, with those the server skipped as already in the
 * document, per update typed: exactly 1 means every update was stored once (an update that reached
 * an instance through Redis is not appended again); rows per update may be below 1 because group
 * commit merges a writer's run into one row.
 *
 * Every run gets its own Redis key prefix, so runs (and other test runs on the same Redis) never
 * see each other's messages.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { sized, type Report, type TargetName } from './report.ts';
import { closeClients, percentiles, samplePeerLatency, sustainedThroughput, type Percentiles } from './scenarios.ts';
import { settleDatabase } from './storage.ts';
import { startComparison, startDurable, type Target } from './targets.ts';

const SIZES = {
  smoke: { counts: [2], seconds: 1 },
  quick: { counts: [2, 3], seconds: 3 },
  full: { counts: [2, 3], seconds: 8 },
};
const CLIENTS = 10;
const RATE = 1000;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `CLIENTS` editors of a scene, client i on instance i mod n, each synced. */
async function spreadClients(instances: Target[], sceneId: string, token: string): Promise<TestClient[]> {
  const clients = Array.from({ length: CLIENTS }, (_, i) => connectClient(instances[i % instances.length]!.wsUrl, sceneId, { token }));
  await Promise.all(clients.map((c) => waitForSynced(c, 30_000)));
  return clients;
}

/** Edit->peer between clients on different instances, over `seconds` after a one-second warm-up. */
async function crossInstanceLatency(instances: Target[], sceneId: string, token: string, seconds: number, seed: number): Promise<Percentiles> {
  const clients = await spreadClients(instances, sceneId, token);
  let recording = false;
  const sampler = samplePeerLatency(clients, { rate: RATE, seed, recording: () => recording });
  await sleep(1000);
  recording = true;
  await sleep(seconds * 1000);
  recording = false;
  sampler.stop();
  await sleep(500);
  closeClients(clients);
  const n = instances.length;
  return percentiles(sampler.samples.filter((s) => s.from % n !== s.to % n).map((s) => s.latencyMs));
}

/** This server reports `multi-instance` once it fans out through Redis. */
async function waitForFanout(instances: Target[]): Promise<void> {
  await Promise.all(
    instances.map((instance) =>
      waitFor(
        async () => {
          const body = (await (await fetch(`${instance.httpUrl}/api/health/ready`)).json()) as { redis_fanout?: { mode: string } };
          return body.redis_fanout?.mode === 'multi-instance';
        },
        'multi-instance mode reported',
        20_000,
      ),
    ),
  );
}

async function startInstances(name: TargetName, count: number, databaseUrl: string): Promise<Target[]> {
  const redis = { url: REDIS_URL, prefix: `wr-bench-${randomUUID()}` };
  const instances: Target[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      instances.push(
        name === 'durable'
          ? await startDurable(databaseUrl, { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix })
          : await startComparison(name, name === 'database' ? databaseUrl : undefined, redis),
      );
    }
    if (name === 'durable') await waitForFanout(instances);
    return instances;
  } catch (error) {
    for (const instance of instances) await instance.stop();
    throw error;
  }
}

/**
 * Updates the instances did not append because the document or the log held them already, summed
 * over the instances (`yjs_updates_skipped_total`; `empty` is left out: a sync handshake's empty
 * SyncStep2 is no update anyone typed).
 */
async function skippedUpdates(instances: Target[]): Promise<number> {
  let skipped = 0;
  for (const instance of instances) {
    const text = await (await fetch(`${instance.httpUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      const match = /^yjs_updates_skipped_total\{reason="(?:already_contained|already_in_log)"\} (\S+)$/.exec(line);
      if (match) skipped += Number(match[1]);
    }
  }
  return skipped;
}

/** Rows stored for a scene and the updates they stand for (a merged row counts every update it holds). */
async function storedFigures(pool: pg.Pool, sceneId: string): Promise<{ rows: number; updates: number }> {
  const { rows } = await pool.query<{ rows: string; updates: string | null }>(
    'SELECT count(*) AS rows, sum(compacted_count) AS updates FROM scene_versions WHERE scene_id = $1::uuid',
    [sceneId],
  );
  return { rows: Number(rows[0]!.rows), updates: Number(rows[0]!.updates ?? 0) };
}

export async function instancesScenario(report: Report): Promise<void> {
  const size = sized(report.size, SIZES);
  report.log(`\nseveral instances behind one Redis (${REDIS_URL}): ${size.counts.join(' and ')} instances, ${CLIENTS} editors of one scene spread over them`);
  const db = await createTestDatabase('postgres');
  const pool = new pg.Pool({ connectionString: db.databaseUrl, max: 2 });
  try {
    for (const name of ['floor', 'database', 'durable'] as const) {
      for (const count of size.counts) {
        const fixture = await createScript(db.prisma, { scenes: 2, title: `Instances ${name} ${count}` });
        const [latencyScene, throughputScene] = fixture.sceneIds as [string, string];
        const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
        await settleDatabase(db.databaseUrl!);
        const instances = await startInstances(name, count, db.databaseUrl!);
        try {
          report.log(`\n${instances[0]!.label} x ${count}`);
          const scenario = 'instances';
          const latency = await crossInstanceLatency(instances, latencyScene, token, size.seconds, report.seed);
          report.recordPercentiles(scenario, `${count} instances: cross-instance edit->peer @${RATE}/s`, name, latency, { goal: '<= 1.5x the alternatives' });
          const clients = await spreadClients(instances, throughputScene, token);
          // Counted as typed, not as acknowledgements: a provider's own sync handshake is acknowledged too.
          let typed = 0;
          for (const client of clients) client.doc.on('update', (_: Uint8Array, origin: unknown) => origin !== client.provider && (typed += 1));
          const skippedBefore = name === 'durable' ? await skippedUpdates(instances) : 0;
          const throughput = await sustainedThroughput(clients, { seconds: size.seconds, window: 16, seed: report.seed });
          report.record({ scenario, label: `${count} instances: max sustained updates/s, 1 scene x ${CLIENTS} clients`, unit: 'updates/s', higherIsBetter: true }, name, throughput.updatesPerSecond);
          let perUpdate = '';
          if (name === 'durable') {
            // Every keystroke was acknowledged before the clients closed (the drain waits for it).
            const acknowledged = typed;
            const stored = await storedFigures(pool, throughputScene);
            // A deletion another writer made first (two backspaces on one character) is already in
            // the document and is not appended: stored plus skipped is every update typed, once.
            const skipped = (await skippedUpdates(instances)) - skippedBefore;
            report.record({ scenario, label: `${count} instances: log rows per update`, unit: 'rows', higherIsBetter: false, goal: '<= 1' }, name, stored.rows / acknowledged);
            report.record({ scenario, label: `${count} instances: updates stored or skipped per update typed`, unit: 'x', higherIsBetter: false, goal: '= 1' }, name, (stored.updates + skipped) / acknowledged);
            perUpdate = `; ${stored.rows} rows standing for ${stored.updates} updates, ${skipped} skipped (already in the document), of ${acknowledged} typed`;
          }
          report.log(`  cross-instance edit->peer p50 ${latency.p50.toFixed(1)} p99 ${latency.p99.toFixed(1)} ms (${latency.count} samples); ${throughput.updatesPerSecond.toFixed(0)} updates/s${perUpdate}`);
        } finally {
          for (const instance of instances) await instance.stop();
        }
      }
    }
  } finally {
    await pool.end();
    await db.close();
  }
}
