import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_AUTH_ENV } from '../helpers/auth.ts';
import type { HeapReading } from './heapProbe.ts';
import { freePort, projectRoot, spawnServer, waitUntilReady } from '../helpers/process.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Every server runs with the heap probe, reached over an IPC channel. */
const PROBE = ['--import', path.join(here, 'heapProbe.ts')];

/**
 * Compiles the server into dist/ (`npm run build:server`), once per benchmark run: every server is
 * measured as a deployment runs it, with no TypeScript loader. This project's server runs its
 * production build (`node dist/src/main.js`, the image's command); the alternatives' one-file
 * servers and the heap probe run through Node's own type stripping. A loader such as tsx resolves
 * and transforms every module a process loads: it took this server's start from about 0.5 s to
 * 0.9 s, which a restart's figures would have counted against it.
 */
export function buildServer(): void {
  execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: projectRoot, stdio: 'inherit' });
}

/** How a restart ends the running process: SIGTERM and its graceful shutdown, or SIGKILL (a crash). */
export type RestartKind = 'graceful' | 'kill';

/** When a restart's steps happened (`Date.now()`). */
export interface RestartTimes {
  signalledAt: number;
  exitedAt: number;
  /** `whileDown` took this long (the benchmark's read of what was stored, not the server's time). */
  whileDownMs: number;
  /** The new process accepts connections. */
  listeningAt: number;
}

/** A server under test, running in its own process. */
export interface Target {
  name: 'durable' | 'floor' | 'database';
  label: string;
  wsUrl: string;
  /** The HTTP API (this project only). */
  httpUrl?: string;
  /** The current process (a restart replaces it). */
  child: ChildProcess;
  /** Lines the process printed (the database comparison prints one per store), across restarts. */
  lines: string[];
  /** Everything this project's server printed so far (its JSON log lines). */
  output?: () => string;
  /** Heap still reachable after a full collection in the server process. */
  heap(): Promise<HeapReading>;
  /**
   * Ends the process and starts a new one on the same ports (clients reconnect to the same URL).
   * `whileDown` runs after the old process exited and before the new one starts.
   */
  restart(kind: RestartKind, whileDown?: () => Promise<void>): Promise<RestartTimes>;
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

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** One process of a target and how to read it: what `restart` swaps. */
interface Launched {
  child: ChildProcess;
  output?: () => string;
}

/** The `Target` around a process that `launch` starts, again on every restart. */
function restartable(fields: Pick<Target, 'name' | 'label' | 'wsUrl' | 'httpUrl' | 'lines'>, first: Launched, launch: () => Promise<Launched>): Target {
  let current = first;
  const target: Target = {
    ...fields,
    child: current.child,
    output: current.output ? () => current.output!() : undefined,
    heap: () => readHeap(current.child),
    restart: async (kind, whileDown) => {
      const signalledAt = Date.now();
      await stopChild(current.child, kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
      const exitedAt = Date.now();
      if (whileDown) await whileDown();
      const whileDownMs = Date.now() - exitedAt;
      current = await launch();
      target.child = current.child;
      return { signalledAt, exitedAt, whileDownMs, listeningAt: Date.now() };
    },
    stop: () => stopChild(current.child),
  };
  return target;
}

/**
 * This project's server, its production build (`buildServer`, as the image runs it), on PostgreSQL
 * (`databaseUrl`) or, with `databaseUrl` undefined, on PGlite under `env.DATA_DIR`.
 */
export async function startDurable(databaseUrl: string | undefined, env: Record<string, string> = {}): Promise<Target> {
  if (databaseUrl === undefined && !env.DATA_DIR) throw new Error('startDurable on PGlite needs env.DATA_DIR');
  const [port, httpPort] = [await freePort(), await freePort()];
  const launch = async (): Promise<Launched> => {
    const server = spawnServer({
      ...TEST_AUTH_ENV,
      // Empty when PGlite is meant: the benchmark's own environment must not choose the database.
      DATABASE_URL: databaseUrl ?? '',
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
    }, { execArgv: PROBE, ipc: true, compiled: true });
    await waitUntilReady(httpPort, server);
    return { child: server.child, output: server.output };
  };
  const label = databaseUrl === undefined ? 'writersroom (durable append log, PGlite)' : 'writersroom (durable append log)';
  return restartable({ name: 'durable', label, wsUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${httpPort}`, lines: [] }, await launch(), launch);
}

/** Several instances of one kind share documents through one Redis, under this key prefix. */
export interface RedisFanoutOptions {
  url: string;
  prefix: string;
}

/**
 * Plain Hocuspocus (`floor`) or Hocuspocus with the stock database extension (`database`), with
 * `@hocuspocus/extension-redis` when `redis` is given.
 */
export async function startComparison(kind: 'floor' | 'database', databaseUrl?: string, redis?: RedisFanoutOptions): Promise<Target> {
  const port = await freePort();
  const args = [...PROBE, path.join(here, 'comparisonServer.ts'), kind, String(port)];
  if (databaseUrl) args.push(databaseUrl);
  const lines: string[] = [];
  const launch = async (): Promise<Launched> => {
    const env = redis ? { ...process.env, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix } : process.env;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
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
    return { child };
  };
  const label = kind === 'floor' ? 'Hocuspocus, no persistence (floor)' : 'Hocuspocus + extension-database';
  return restartable({ name: kind, label, wsUrl: `ws://127.0.0.1:${port}`, lines }, await launch(), launch);
}
