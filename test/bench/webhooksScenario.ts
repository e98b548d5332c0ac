/**
 * Webhooks beside live editing (issue 20): edit->peer latency of 10 editors typing at 1,000
 * updates/s with 10 webhook endpoints subscribed to the scene, against the same run with none (goal:
 * p99 at most 10% higher), and the delivery latency past the coalescing window (goal: p99 under
 * 1 s). That latency is taken at the receiver: from the commit of the oldest change a delivery
 * carries (the change feed's row) to the delivery's arrival, for every delivery; the server's own
 * `webhook_delivery_latency_seconds` histogram (commit to 2xx) is reported beside it, as the upper
 * bound of its bucket.
 *
 * Each round gets a fresh PostgreSQL database and one server, with the delivery job on (only it:
 * the other jobs are off), and 10 editors typing into one scene throughout. The round is four
 * phases, none-10-10-none: the endpoints are registered before a "10" phase and deleted before a
 * "none" phase (with a settling second each time, not recorded). Both conditions are measured in
 * the same process, on the same database and at the same mean point of the scene's growth, so what
 * changes from one to the other is the endpoints, not the machine's mood or the document's length:
 * from one server start to the next, the p99 alone varies by more than the 10% this measures.
 * Before the first phase, endpoints are registered until each has had one delivery and deleted
 * again: the phases compare a running deliverer with none, not the scene's first read (its whole
 * log, once per scene and process) with none.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { closeClients, openClients, percentiles, samplePeerLatency, type Percentiles } from './scenarios.ts';
import { commitFigures, describeCommitFigures, readCommitHistograms } from './serverHistograms.ts';
import { startDurable } from './targets.ts';
import type { ReceivedDelivery, ReceiverMessage } from './webhookReceiver.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface WebhooksRound {
  none: Percentiles;
  subscribed: Percentiles;
  deliveries: number;
  /** p99 of the delivery latency minus the window, from the server's histogram buckets (an upper bound). */
  deliveryPastWindowP99Ms: number;
  /** The same latency as the receiver saw it (`pastWindowAtReceiver`), per delivery. */
  receiverPastWindow: Percentiles;
}

export interface WebhooksFigures {
  rounds: WebhooksRound[];
  /**
   * Every round's samples of each condition pooled: the figure the goal is judged by, since one
   * round's p99 rests on its few slowest moments (a checkpoint, a collection) and swings by more
   * than the 10% in question. `ratioRange` is the spread of the rounds' own ratios.
   */
  pooled: { none: Percentiles; subscribed: Percentiles; ratio: number; ratioRange: [number, number]; receiverPastWindow: Percentiles };
}

const CLIENTS = 10;
const RATE = 1000;
const ENDPOINTS = 10;
const COALESCE_MS = 2000;
const WARM_UP_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The upper bound of the bucket holding quantile `q` of a Prometheus histogram in `/metrics` text. */
export function histogramQuantileUpperBound(metricsText: string, name: string, q: number): { seconds: number; count: number } {
  const buckets = [...metricsText.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))].map((m) => ({
    le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    count: Number(m[2]),
  }));
  const total = buckets.at(-1)?.count ?? 0;
  const bucket = buckets.find((b) => b.count >= q * total);
  return { seconds: bucket?.le ?? Number.NaN, count: total };
}

/** The receiver process (webhookReceiver.ts): its URL, and every delivery it has taken so far. */
interface ReceiverProcess {
  url: string;
  deliveries(): Promise<ReceivedDelivery[]>;
  close(): Promise<void>;
}

async function receiver(): Promise<ReceiverProcess> {
  const child = spawn(process.execPath, [path.join(here, 'webhookReceiver.ts')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T extends ReceiverMessage['type']>(type: T) =>
    new Promise<Extract<ReceiverMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (message: ReceiverMessage) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as Extract<ReceiverMessage, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`the webhook receiver exited with ${code}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next('listening');
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries: async () => {
      const answer = next('deliveries');
      child.send('deliveries');
      return (await answer).deliveries;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/**
 * The receiver's own delivery latency past the window, in ms, one figure per delivery: from the
 * commit of the oldest change it carries (the first change after the endpoint's previous delivery,
 * read from the change feed's rows) to its arrival, minus the window. An endpoint's first delivery
 * has no previous one to start from and is left out.
 */
function pastWindowAtReceiver(deliveries: readonly ReceivedDelivery[], changes: ReadonlyArray<{ seq: number; at: number }>): number[] {
  const byEndpoint = new Map<string, ReceivedDelivery[]>();
  for (const delivery of deliveries) {
    const list = byEndpoint.get(delivery.endpoint);
    if (list) list.push(delivery);
    else byEndpoint.set(delivery.endpoint, [delivery]);
  }
  const figures: number[] = [];
  for (const list of byEndpoint.values()) {
    for (let i = 1; i < list.length; i += 1) {
      const previous = list[i - 1]!.seq;
      const current = list[i]!;
      if (current.seq <= previous) continue;
      const oldest = changes.find((change) => change.seq > previous);
      if (oldest) figures.push(current.receivedAt - oldest.at - COALESCE_MS);
    }
  }
  return figures;
}

/** The four phases of a round: the two conditions in an order that cancels a steady drift. */
const PHASES = ['none', 'subscribed', 'subscribed', 'none'] as const;
const SETTLE_MS = 1000;

async function oneRound(round: number, seconds: number, seed: number, log: (line: string) => void): Promise<{ round: WebhooksRound; samples: Record<'none' | 'subscribed', number[]>; received: number[] }> {
  const db = await createTestDatabase('postgres');
  const hook = await receiver();
  const env = {
    JOBS_ENABLED: 'true',
    COMPACTION_INTERVAL_MS: '0',
    RETENTION_INTERVAL_MS: '0',
    DIVERGENCE_INTERVAL_MS: '0',
    SNAPSHOT_INTERVAL_MS: String(24 * 3600_000),
    WEBHOOK_COALESCE_MS: String(COALESCE_MS),
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
  };
  try {
    const fixture = await createScript(db.prisma, { scenes: 1, title: 'Webhooks benchmark' });
    const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
    const server = await startDurable(db.databaseUrl!, env);
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${server.httpUrl}/api/scripts/${fixture.scriptId}/webhooks${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    let endpointIds: string[] = [];
    const subscribe = async () => {
      for (let i = 0; i < ENDPOINTS; i += 1) {
        const res = await api('', { method: 'POST', body: JSON.stringify({ url: `${hook.url}/${i}`, secret: `benchmark-secret-${i}-0123456789` }) });
        if (res.status !== 201) throw new Error(`webhook registration answered ${res.status}: ${await res.text()}`);
        endpointIds.push(((await res.json()) as { id: string }).id);
      }
    };
    const unsubscribe = async () => {
      for (const id of endpointIds) {
        const res = await api(`/${id}`, { method: 'DELETE' });
        if (res.status !== 204) throw new Error(`webhook deletion answered ${res.status}: ${await res.text()}`);
      }
      endpointIds = [];
    };
    const samples = { none: [] as number[], subscribed: [] as number[] };
    /** The deliveries of the warm-up, before the first phase: not counted. */
    let warmUpDeliveries = 0;
    let metrics: string;
    try {
      const clients = await openClients(server as never, [fixture.sceneIds[0]!], CLIENTS, token);
      let recording: 'none' | 'subscribed' | null = null;
      const sampler = samplePeerLatency(clients, { rate: RATE, seed: seed + round, recording: () => recording !== null });
      await sleep(WARM_UP_MS);
      // A running deliverer, not a first one: the endpoints are registered until each has had a
      // delivery, then deleted, before the first phase. The scene's first read for a delivery reads
      // its whole log (an uncompacted scene here) and starts the worker thread; after it, each read
      // takes only the rows committed since, from the state the server keeps for a minute
      // (src/webhooks/sceneContent.ts). That first read is paid once per scene and process, and it
      // fell into the first phase with endpoints: the comparison is of the steady state.
      await subscribe();
      const warmUntil = Date.now() + 20_000;
      while ((warmUpDeliveries = (await hook.deliveries()).length) < ENDPOINTS && Date.now() < warmUntil) await sleep(250);
      if (warmUpDeliveries < ENDPOINTS) throw new Error(`the warm-up's deliveries did not arrive in 20 s (${warmUpDeliveries} of ${ENDPOINTS}); the server's last output:\n${(server.output?.() ?? '').slice(-4000)}`);
      await unsubscribe();
      warmUpDeliveries = (await hook.deliveries()).length;
      for (const phase of PHASES) {
        if (phase === 'subscribed' && endpointIds.length === 0) await subscribe();
        if (phase === 'none' && endpointIds.length > 0) await unsubscribe();
        await sleep(SETTLE_MS);
        const from = sampler.samples.length;
        const before = await readCommitHistograms(server);
        recording = phase;
        await sleep(seconds * 1000);
        recording = null;
        const after = await readCommitHistograms(server);
        const phaseSamples = sampler.samples.slice(from).map((s) => s.latencyMs);
        for (const sample of phaseSamples) samples[phase].push(sample);
        if (before && after) {
          log(`    ${phase}: p99 ${percentiles(phaseSamples).p99.toFixed(1)} ms; ${describeCommitFigures(commitFigures(before, after))}`);
        }
      }
      sampler.stop();
      await sleep(500);
      closeClients(clients);
      metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    } finally {
      await server.stop();
    }
    const none = percentiles(samples.none);
    const subscribed = percentiles(samples.subscribed);
    const latency = histogramQuantileUpperBound(metrics, 'webhook_delivery_latency_seconds', 0.99);
    const deliveries = (await hook.deliveries()).slice(warmUpDeliveries);
    if (deliveries.length === 0) {
      const output = server.output?.() ?? '';
      throw new Error(`no webhook was delivered while the endpoints were subscribed (none arrived at the receiver); the server's last output:\n${output.slice(-4000)}`);
    }
    const pastWindow = latency.seconds * 1000 - COALESCE_MS;
    const changeRows = await db.database.sql.query<{ seq: string; at: Date }>(
      'bench_scene_changes',
      'SELECT seq::text AS seq, created_at AS at FROM scene_changes WHERE scene_id = $1 ORDER BY seq',
      [fixture.sceneIds[0]!],
    );
    const received = pastWindowAtReceiver(deliveries, changeRows.map((row) => ({ seq: Number(row.seq), at: row.at.getTime() })));
    const receiverPastWindow = percentiles(received);
    log(
      `  round ${round}: no endpoint p99 ${none.p99.toFixed(1)} ms, ${ENDPOINTS} endpoints p99 ${subscribed.p99.toFixed(1)} ms (${(subscribed.p99 / none.p99).toFixed(2)}x); ` +
        `${latency.count} deliveries, delivery p99 <= ${pastWindow.toFixed(0)} ms past the ${COALESCE_MS} ms window (server histogram), ` +
        `${receiverPastWindow.p50.toFixed(0)} / ${receiverPastWindow.p99.toFixed(0)} / ${receiverPastWindow.max.toFixed(0)} ms p50/p99/max at the receiver (${receiverPastWindow.count} deliveries)`,
    );
    return { round: { none, subscribed, deliveries: latency.count, deliveryPastWindowP99Ms: pastWindow, receiverPastWindow }, samples, received };
  } finally {
    await hook.close();
    await db.close();
  }
}

export async function webhooksScenario(options: { rounds: number; seconds: number; seed: number; log: (line: string) => void }): Promise<WebhooksFigures> {
  options.log(`\nwebhooks (${options.rounds} rounds): ${CLIENTS} editors at ${RATE}/s, ${ENDPOINTS} endpoints vs none, WEBHOOK_COALESCE_MS=${COALESCE_MS}`);
  const rounds: WebhooksRound[] = [];
  const pooled = { none: [] as number[], subscribed: [] as number[], received: [] as number[] };
  for (let round = 1; round <= options.rounds; round += 1) {
    const { round: figures, samples, received } = await oneRound(round, options.seconds, options.seed, options.log);
    rounds.push(figures);
    for (const figure of received) pooled.received.push(figure);
    for (const sample of samples.none) pooled.none.push(sample);
    for (const sample of samples.subscribed) pooled.subscribed.push(sample);
  }
  const none = percentiles(pooled.none);
  const subscribed = percentiles(pooled.subscribed);
  const ratios = rounds.map((r) => r.subscribed.p99 / r.none.p99);
  const ratio = subscribed.p99 / none.p99;
  const receiverPastWindow = percentiles(pooled.received);
  options.log(
    `  all rounds pooled: no endpoint p99 ${none.p99.toFixed(1)} ms, ${ENDPOINTS} endpoints p99 ${subscribed.p99.toFixed(1)} ms (${ratio.toFixed(2)}x; rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x); ` +
      `delivery p99 ${receiverPastWindow.p99.toFixed(0)} ms past the window at the receiver`,
  );
  return { rounds, pooled: { none, subscribed, ratio, ratioRange: [Math.min(...ratios), Math.max(...ratios)], receiverPastWindow } };
}
