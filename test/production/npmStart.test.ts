import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, projectRoot, waitUntilReady } from '../helpers/process.ts';
import { groupAlive, killGroup, pgliteLockReleased, portIsFree, waitForOutput, watchProcess } from './support.ts';

describe('npm start', () => {
  let pgid: number | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    killGroup(pgid);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stops the server when the npm process itself gets SIGTERM: ports freed, PGlite lock released', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wr-npm-start-'));
    const dataDir = path.join(dir, 'data');
    const [port, httpPort] = [await freePort(), await freePort()];
    // Its own process group, so that whatever npm leaves behind can be found and cleaned up.
    const npm = spawn('npm', ['start'], {
      cwd: projectRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json', PORT: String(port), HTTP_PORT: String(httpPort), DATA_DIR: dataDir, DATABASE_URL: '' },
    });
    pgid = npm.pid!;
    const server = watchProcess(npm);
    await waitUntilReady(httpPort, server, 60_000);
    await waitForOutput(server, `"msg":"open http://127.0.0.1:${httpPort}/ in a browser`);
    expect(pgliteLockReleased(dataDir)).toBe(false);

    process.kill(npm.pid!, 'SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
    // npm waits for the server it started: once npm has exited, nothing of the group is left.
    expect(groupAlive(pgid)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    expect(await portIsFree(httpPort)).toBe(true);
    expect(pgliteLockReleased(dataDir)).toBe(true);
  }, 90_000);
});
