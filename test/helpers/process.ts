import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root, the working directory of the processes tests start. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A port the OS says is free now (the server is started on it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /** Node options after tsx's loader (if any) and before the entry point (the benchmark preloads its heap probe). */
  execArgv?: string[];
  /** Opens an IPC channel to the child (`child.send`). */
  ipc?: boolean;
  /** The entry point, from the repository's root (default `src/main.ts`; `jobs/worker.ts` for the jobs worker). */
  entry?: string;
  /**
   * Runs the production build of the entry point (`npm run build:server`: `dist/src/main.js`) with
   * no TypeScript loader, as the image does. The caller builds it first.
   */
  compiled?: boolean;
}

/** Runs `npm start`'s entry point (or another role's) as a separate process, as an operator would. */
export function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): ServerProcess {
  const entry = options.entry ?? 'src/main.ts';
  const args = options.compiled
    ? [...(options.execArgv ?? []), path.join(projectRoot, 'dist', entry.replace(/\.ts$/, '.js'))]
    : ['--import', 'tsx', ...(options.execArgv ?? []), path.join(projectRoot, entry)];
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Polls the readiness route until it answers 200. */
export async function waitUntilReady(httpPort: number, server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`server exited early:\n${server.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server not ready after ${timeoutMs} ms:\n${server.output()}`);
}
