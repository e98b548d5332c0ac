import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_AUTH_ENV } from '../helpers/auth.ts';
import { freePort, projectRoot, waitUntilReady } from '../helpers/process.ts';
import { killGroup, waitForOutput, watchProcess } from './support.ts';

/**
 * The Dockerfile's build, run without Docker (there is no engine here): its build stage's COPY
 * and RUN lines in a temporary directory standing for /app, its runtime stage's `COPY --from=build`
 * lines into another, then its CMD there with its ENV, and its HEALTHCHECK against that. The lines
 * are read from the Dockerfile, so the test follows it.
 *
 * One substitution: `npm ci` (a minute here: 430 packages) is the checkout's own installed tree,
 * hard-linked, plus the lifecycle script npm ci runs (postinstall). SOAK=1 runs the real npm ci.
 */

interface Stage {
  name: string;
  env: Record<string, string>;
  steps: { instruction: string; args: string }[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): { stages: Stage[]; cmd: string[]; healthcheck: string } {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  let cmd: string[] = [];
  let healthcheck = '';
  for (const line of lines) {
    const [, instruction, args] = /^(\w+)\s+(.*)$/.exec(line)!;
    if (instruction === 'FROM') {
      stages.push({ name: / AS (\w+)$/i.exec(args!)?.[1] ?? '', env: {}, steps: [] });
      continue;
    }
    const stage = stages.at(-1)!;
    if (instruction === 'ENV') for (const [, key, value] of args!.matchAll(/(\w+)=(\S+)/g)) stage.env[key!] = value!;
    else if (instruction === 'CMD') cmd = JSON.parse(args!) as string[];
    else if (instruction === 'HEALTHCHECK') healthcheck = args!.replace(/^.*?CMD\s+/, '');
    else stage.steps.push({ instruction: instruction!, args: args! });
  }
  return { stages, cmd, healthcheck };
}

/** `COPY . .`: the context minus .dockerignore (plain names and globs from the context's root). */
async function copyContext(to: string): Promise<void> {
  const patterns = (await readFile(path.join(projectRoot, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const pattern of patterns) expect(pattern, 'a .dockerignore pattern this test understands').toMatch(/^[\w.*/-]+$/);
  await cp(projectRoot, to, {
    recursive: true,
    filter: (source) => {
      const relative = path.relative(projectRoot, source);
      return relative === '' || !patterns.some((pattern) => path.matchesGlob(relative, pattern));
    },
  });
}

const run = promisify(execFile);

describe('the Dockerfile, built without Docker', () => {
  let dir: string | undefined;
  let pgid: number | undefined;
  afterAll(async () => {
    killGroup(pgid);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds the compiled server, which starts with NODE_ENV=production and answers /api/health/ready', async () => {
    const dockerfile = parseDockerfile(await readFile(path.join(projectRoot, 'Dockerfile'), 'utf8'));
    const build = dockerfile.stages.find((stage) => stage.name === 'build')!;
    const runtime = dockerfile.stages.at(-1)!;
    dir = await mkdtemp(path.join(tmpdir(), 'wr-docker-layout-'));
    const buildDir = path.join(dir, 'build');
    const appDir = path.join(dir, 'app');
    const at = (root: string, dockerPath: string) => path.join(root, path.relative('/app', dockerPath));

    for (const { instruction, args } of build.steps) {
      if (instruction === 'WORKDIR') expect(args).toBe('/app');
      else if (instruction === 'COPY') {
        expect(args).toBe('. .');
        await copyContext(buildDir);
      } else if (instruction === 'RUN') {
        if (/^npm ci\b/.test(args) && !process.env.SOAK) {
          await run('cp', ['-al', path.join(projectRoot, 'node_modules'), path.join(buildDir, 'node_modules')]);
          // npm rewrites its hidden lockfile on prune: a copy, not a link to the checkout's own.
          await rm(path.join(buildDir, 'node_modules', '.package-lock.json'));
          await cp(path.join(projectRoot, 'node_modules', '.package-lock.json'), path.join(buildDir, 'node_modules', '.package-lock.json'));
          await run('npm', ['run', 'postinstall'], { cwd: buildDir });
        } else {
          await run('sh', ['-c', args], { cwd: buildDir, env: { ...process.env, ...build.env } });
        }
      } else throw new Error(`the build stage has ${instruction} ${args}, which this test does not run`);
    }

    await mkdir(appDir);
    for (const { instruction, args } of runtime.steps) {
      if (instruction !== 'COPY') continue; // WORKDIR /app, RUN mkdir /data (the test's DATA_DIR), USER, EXPOSE, VOLUME
      const [, from, paths] = /^--from=(\w+)(?: --chown=\S+)? (.*)$/.exec(args)!;
      expect(from).toBe('build');
      const parts = paths!.split(' ');
      const destination = parts.pop()!;
      for (const source of parts) {
        const target = destination.endsWith('/') ? path.join(at(appDir, destination), path.basename(source)) : at(appDir, destination);
        await cp(at(buildDir, source), target, { recursive: true, verbatimSymlinks: true });
      }
    }
    // The image holds the compiled server, not its TypeScript sources, and runs no tsx.
    expect((await readdir(appDir)).sort()).toEqual(['dist', 'node_modules', 'package-lock.json', 'package.json', 'prisma']);
    expect((await stat(path.join(appDir, 'dist', 'src', 'main.js'))).isFile()).toBe(true);
    expect((await stat(path.join(appDir, 'dist', 'web', 'index.html'))).isFile()).toBe(true);
    expect(dockerfile.cmd.join(' ')).not.toMatch(/tsx/);
    await expect(stat(path.join(appDir, 'node_modules', 'vitest'))).rejects.toThrow(); // dev dependencies pruned

    const httpPort = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH!,
      ...runtime.env,
      // What `docker run -e` would set: loopback ports of this machine, a data directory of the test's.
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      HTTP_PORT: String(httpPort),
      DATA_DIR: path.join(dir, 'data'),
      AUTH_JWT_SECRET: TEST_AUTH_ENV.AUTH_JWT_SECRET,
    };
    expect(env.NODE_ENV).toBe('production');
    const [command, ...args] = dockerfile.cmd;
    const server = watchProcess(spawn(command === 'node' ? process.execPath : command!, args, { cwd: appDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
    pgid = server.child.pid!;
    await waitUntilReady(httpPort, server, 60_000);
    await waitForOutput(server, `"msg":"open http://127.0.0.1:${httpPort}/ in a browser"`);
    // The image's own HEALTHCHECK command, as Docker would run it inside the container.
    await expect(run('sh', ['-c', dockerfile.healthcheck], { env })).resolves.toBeDefined();
    // The editor page is served from dist/web.
    expect((await fetch(`http://127.0.0.1:${httpPort}/`)).status).toBe(200);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toMatch(/"level":(40|50|60)/);
  }, 240_000);
});
