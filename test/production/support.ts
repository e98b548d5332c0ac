import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { pgliteDirectory } from '../../src/db/client.ts';
import type { ServerProcess } from '../helpers/process.ts';

/** Wraps a spawned child as the helpers' ServerProcess (output collected, exit awaited). */
export function watchProcess(child: ChildProcess): ServerProcess {
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** True when nothing listens on `port` any more: binding it succeeds. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** True while any process of the group `pgid` (a child spawned `detached`) is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what is left of a detached child's process group (a test that failed half-way). */
export function killGroup(pgid: number | undefined): void {
  if (pgid !== undefined && groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
}

/** PGlite's lock of the database under `dataDir` (src/db/dataDirLock.ts) is released. */
export function pgliteLockReleased(dataDir: string): boolean {
  return !existsSync(`${pgliteDirectory(dataDir)}.lock`);
}

/** Resolves once the process has printed `text`; rejects when it exits first or `timeoutMs` passes. */
export async function waitForOutput(server: ServerProcess, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!server.output().includes(text)) {
    if (server.child.exitCode !== null) throw new Error(`exited before printing ${JSON.stringify(text)}:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
