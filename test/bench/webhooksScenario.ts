/**
 * Webhooks beside live editing (issue 20): edit->peer latency of 10 editors typing at 1,000
 * updates/s with 10 webhook endpoints subscribed to the scene, against the same run with none (goal:
 * p99 at most 10% higher), and the delivery latency past the coalescing window (goal: p99 under
 * 1 s), read from the server's `webhook_delivery_latency_seconds` histogram (from the commit of the
 * oldest change a delivery carries to its 2xx).
 *
 * Each round gets a fresh PostgreSQL database and runs the server twice on it, with the delivery
 * job on both times (only it: the other jobs are off): no endpoint, then 10 endpoints on one local
 * receiver that answers at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { closeClients, openClients, percentiles, samplePeerLatency, type Percentiles } from './scenarios.ts';
import { startDurable } from './targets.ts';

export interface WebhooksRound {
  none: Percentiles;
  subscribed: Percentiles;
  deliveries: number;
  /** p99 of the delivery latency minus the window, from the histogram's buckets (an upper bound). */
  deliveryPastWindowP99Ms: number;
}

export interface WebhooksFigures {
  rounds: WebhooksRound[];
  /** The round with the median ratio of p99s (10 endpoints / none). */
  median: WebhooksRound & { ratio: number };
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

async function receiver(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function typeFor(target: { wsUrl: string }, sceneId: string, token: string, seed: number, seconds: number): Promise<Percentiles> {
  const clients = await openClients(target as never, [sceneId], CLIENTS, token);
  let recording = false;
  const sampler = samplePeerLatency(clients, { rate: RATE, seed, recording: () => recording });
  await sleep(WARM_UP_MS);
  recording = true;
  await sleep(seconds * 1000);
  recording = false;
  sampler.stop();
  await sleep(500);
  closeClients(clients);
  return percentiles(sampler.samples.map((s) => s.latencyMs));
}

async function oneRound(round: number, seconds: number, seed: number, log: (line: string) => void): Promise<WebhooksRound> {
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
    const fixture = await createScript(db.prisma, { scenes: 2, title: 'Webhooks benchmark' });
    const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
    const [withoutHooks, withHooks] = fixture.sceneIds as [string, string];

    const plain = await startDurable(db.databaseUrl!, env);
    let none: Percentiles;
    try {
      none = await typeFor(plain, withoutHooks, token, seed + round, seconds);
    } finally {
      await plain.stop();
    }

    const subscribed = await startDurable(db.databaseUrl!, env);
    let typed: Percentiles;
    let metrics: string;
    try {
      for (let i = 0; i < ENDPOINTS; i += 1) {
        const res = await fetch(`${subscribed.httpUrl}/api/scripts/${fixture.scriptId}/webhooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: `${hook.url}/${i}`, secret: `benchmark-secret-${i}-0123456789` }),
        });
        if (res.status !== 201) throw new Error(`webhook registration answered ${res.status}: ${await res.text()}`);
      }
      typed = await typeFor(subscribed, withHooks, token, seed + round, seconds);
      // The last changes' deliveries: one window and a little.
      await sleep(COALESCE_MS + 1500);
      metrics = await (await fetch(`${subscribed.httpUrl}/metrics`)).text();
    } finally {
      await subscribed.stop();
    }
    const latency = histogramQuantileUpperBound(metrics, 'webhook_delivery_latency_seconds', 0.99);
    const pastWindow = latency.seconds * 1000 - COALESCE_MS;
    log(
      `  round ${round}: no endpoint p99 ${none.p99.toFixed(1)} ms, ${ENDPOINTS} endpoints p99 ${typed.p99.toFixed(1)} ms (${(typed.p99 / none.p99).toFixed(2)}x); ` +
        `${hook.received()} deliveries, delivery p99 <= ${pastWindow.toFixed(0)} ms past the ${COALESCE_MS} ms window`,
    );
    return { none, subscribed: typed, deliveries: hook.received(), deliveryPastWindowP99Ms: pastWindow };
  } finally {
    await hook.close();
    await db.close();
  }
}

export async function webhooksScenario(options: { rounds: number; seconds: number; seed: number; log: (line: string) => void }): Promise<WebhooksFigures> {
  options.log(`\nwebhooks (${options.rounds} rounds): ${CLIENTS} editors at ${RATE}/s, ${ENDPOINTS} endpoints vs none, WEBHOOK_COALESCE_MS=${COALESCE_MS}`);
  const rounds: WebhooksRound[] = [];
  for (let round = 1; round <= options.rounds; round += 1) rounds.push(await oneRound(round, options.seconds, options.seed, options.log));
  const ratio = (r: WebhooksRound) => r.subscribed.p99 / r.none.p99;
  const sorted = [...rounds].sort((a, b) => ratio(a) - ratio(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { rounds, median: { ...median, ratio: ratio(median) } };
}
