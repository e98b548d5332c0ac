import { randomUUID } from 'node:crypto';
import { TEST_AUTH_ENV } from '../helpers/auth.ts';
import { waitFor } from '../helpers/clients.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';

/** A server process of a multi-instance test: its WebSocket URL and HTTP port. */
export interface Instance {
  server: ServerProcess;
  wsUrl: string;
  httpPort: number;
}

/**
 * `count` server processes on one PostgreSQL database and one Redis, sharing a Redis prefix of
 * their own, each ready and fanning out when this resolves. Jobs are off: nothing but the editors
 * writes to the log.
 */
export async function startInstances(count: number, databaseUrl: string, redisUrl: string): Promise<Instance[]> {
  const prefix = `wr-test-${randomUUID()}`;
  const instances = await Promise.all(
    Array.from({ length: count }, async () => {
      const wsPort = await freePort();
      const httpPort = await freePort();
      const server = spawnServer({
        ...TEST_AUTH_ENV,
        PORT: String(wsPort),
        HTTP_PORT: String(httpPort),
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        JOBS_ENABLED: 'false',
      });
      await waitUntilReady(httpPort, server);
      return { server, wsUrl: `ws://127.0.0.1:${wsPort}`, httpPort };
    }),
  );
  await waitForFanout(instances, 'multi-instance');
  return instances;
}

export async function stopInstances(instances: readonly Instance[]): Promise<void> {
  for (const { server } of instances) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

/** `multi-instance` while the instance fans out through Redis, `single-server` while Redis is away. */
export async function fanoutMode(instance: Instance): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${instance.httpPort}/api/health/ready`);
  const body = (await res.json()) as { redis_fanout?: { mode: string } };
  return body.redis_fanout?.mode ?? 'unknown';
}

export function waitForFanout(instances: readonly Instance[], mode: 'multi-instance' | 'single-server', timeoutMs = 20_000): Promise<void> {
  return Promise.all(instances.map((instance) => waitFor(async () => (await fanoutMode(instance)) === mode, `${mode} mode reported`, timeoutMs))).then(
    () => undefined,
  );
}

/** The sum of a counter's series on an instance's `/metrics` that carry `labels`. */
export async function scrapedCounter(instance: Instance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${instance.httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
    if (Object.entries(labels).every(([key, value]) => series[key] === value)) sum += Number(match[3]);
  }
  return sum;
}
