import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_AUTH_ENV } from '../helpers/auth.ts';
import type { HeapReading } from './heapProbe.ts';
import { freePort, spawnServer, waitUntilReady } from '../helpers/process.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Every server runs with the heap probe, reached over an IPC channel. */
const PROBE = ['--import', path.join(here, 'heapProbe.ts')];

/** A server under test, running in its own process. */
export interface Target {
  name: 'durable' | 'floor' | 'database';
  label: string;
  wsUrl: string;
  /** The HTTP API (this project only). */
  httpUrl?: string;
  child: ChildProcess;
  /** Lines the process printed (the database comparison prints one per store). */
  lines: string[];
  /** Everything this project's server printed so far (its JSON log lines). */
  output?: () => string;
  /** Heap still reachable after a full collection in the server process. */
  heap(): Promise<HeapReading>;
  stop(): Promise<void>;
}

function readHeap(child: ChildProcess): Promise<HeapReading> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not answer the heap probe')), 30_000);
    const onMessage = (message: unknown) => {
      if ((message as HeapReading | null)?.type !== 'heap') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as HeapReading);
    };
    child.on('message', onMessage);
    child.send('heap');
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** This project: `npm start`'s entry point on PostgreSQL. */
export async function startDurable(databaseUrl: string, env: Record<string, string> = {}): Promise<Target> {
  const [port, httpPort] = [await freePort(), await freePort()];
  const server = spawnServer({
    ...TEST_AUTH_ENV,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HTTP_PORT: String(httpPort),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    // The benchmark measures the server, not the guard: typing at thousands of updates per second
    // from one connection is what a load test does.
    RATE_LIMIT_UPDATES_PER_MINUTE: '100000000',
    // Background jobs (compaction of the large scenes prepared for the load figures, snapshots)
    // would run on this process's event loop in the middle of the measurements; compaction is
    // measured on its own below. In production they run on the same schedule unless disabled.
    JOBS_ENABLED: 'false',
    ...env,
  }, { execArgv: PROBE, ipc: true });
  await waitUntilReady(httpPort, server);
  return {
    name: 'durable',
    label: 'writersroom (durable append log)',
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    child: server.child,
    lines: [],
    output: server.output,
    heap: () => readHeap(server.child),
    stop: () => stopChild(server.child),
  };
}

/** Plain Hocuspocus (`floor`) or Hocuspocus with the stock database extension (`database`). */
export async function startComparison(kind: 'floor' | 'database', databaseUrl?: string): Promise<Target> {
  const port = await freePort();
  const args = ['--import', 'tsx', ...PROBE, path.join(here, 'comparisonServer.ts'), kind, String(port)];
  if (databaseUrl) args.push(databaseUrl);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        if (line.includes('"listening"')) resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return {
    name: kind,
    label: kind === 'floor' ? 'Hocuspocus, no persistence (floor)' : 'Hocuspocus + extension-database',
    wsUrl: `ws://127.0.0.1:${port}`,
    child,
    lines,
    heap: () => readHeap(child),
    stop: () => stopChild(child),
  };
}
