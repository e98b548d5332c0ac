import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDirectory } from '../../src/db/dataDirLock.ts';
import { DataDirectoryInUseError } from '../../src/db/errors.ts';

describe('lockDataDirectory', () => {
  let directory: string;
  let lockPath: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'wr-test-'));
    lockPath = join(directory, 'pglite.lock');
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('records the owner pid and removes the lock on release', async () => {
    const lock = await lockDataDirectory(lockPath, directory);
    expect(await readFile(lockPath, 'utf8')).toBe(String(process.pid));
    await lock.release();
    await expect(stat(lockPath)).rejects.toThrow();
  });

  it('refuses a second owner while the first holds the lock, even in the same process', async () => {
    const lock = await lockDataDirectory(lockPath, directory);
    const error = await lockDataDirectory(lockPath, directory).catch((e) => e);
    expect(error).toBeInstanceOf(DataDirectoryInUseError);
    expect(error.code).toBe('DB_DATA_DIR_IN_USE');
    expect(error.message).toContain('this process');
    await lock.release();
    await (await lockDataDirectory(lockPath, directory)).release();
  });

  it('takes over a lock left by a process that died', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(lockPath, String(dead.pid));

    const lock = await lockDataDirectory(lockPath, directory);

    expect(await readFile(lockPath, 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('does not remove a lock that another owner has taken since', async () => {
    const lock = await lockDataDirectory(lockPath, directory);
    await writeFile(lockPath, '1');
    await lock.release();
    expect(await readFile(lockPath, 'utf8')).toBe('1');
  });
});
