import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../helpers/process.ts';

// By URL, so the loader is found whatever the working directory (clear-yjs writes to ./exports).
const tsxLoader = pathToFileURL(path.join(projectRoot, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `jobs/cli.ts` as an operator would (`npm run job -- ...` runs the same file with tsx). */
export function runJobCli(args: readonly string[], env: Record<string, string> = {}, cwd = projectRoot): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(projectRoot, 'jobs/cli.ts'), ...args], {
      cwd,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Non-empty lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}
