import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, with what it answered. */
export interface Received {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: any;
  status: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Every request as it arrived, before it was answered. */
  arrived: Array<Omit<Received, 'status'>>;
  /** Only the deliveries it answered with a 2xx. */
  accepted: () => Received[];
  close: () => Promise<void>;
}

/**
 * A real HTTP receiver on port 0. `answer` decides each request's status (a promise: the receiver
 * can hold a request open); the default accepts everything.
 */
export async function startReceiver(answer: (request: Omit<Received, 'status'>, index: number) => number | Promise<number> = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const arrived: Array<Omit<Received, 'status'>> = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const request = { headers: req.headers, rawBody, body: JSON.parse(rawBody) };
      arrived.push(request);
      const status = await answer(request, count++);
      received.push({ ...request, status });
      res.statusCode = status;
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    arrived,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The server environment the webhook tests run with: jobs on (only the delivery one scheduled), short windows. */
export const WEBHOOK_TEST_ENV: Record<string, string> = {
  JOBS_ENABLED: 'true',
  COMPACTION_INTERVAL_MS: '0',
  RETENTION_INTERVAL_MS: '0',
  DIVERGENCE_INTERVAL_MS: '0',
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
  WEBHOOK_COALESCE_MS: '150',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '200',
  WEBHOOK_MAX_FAILURES: '4',
  WEBHOOK_TIMEOUT_MS: '1000',
  CHANGE_FEED_POLL_MS: '100',
};

/** A JSON request against a server at `baseUrl`. */
export async function api(baseUrl: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Seqs per scene in the order a receiver accepted them. */
export function seqsByScene(received: readonly Received[]): Map<string, number[]> {
  const seqs = new Map<string, number[]>();
  for (const r of received) seqs.set(r.body.sceneId, [...(seqs.get(r.body.sceneId) ?? []), r.body.seq]);
  return seqs;
}
