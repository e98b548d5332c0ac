import { open, readFile, unlink } from 'node:fs/promises';
import { DataDirectoryInUseError } from './errors.ts';

/**
 * PGlite is a single-process database with no lock of its own: two processes (or two PGlite
 * instances in one process) on the same directory corrupt it. `npm start` and a job run from
 * the command line against the default `./data` would do exactly that, so the directory is
 * claimed with a lock file holding the owner's pid; a lock left by a dead process is taken over.
 */
export interface DataDirLock {
  release(): Promise<void>;
}

export async function lockDataDirectory(lockPath: string, describe: string): Promise<DataDirLock> {
  const owner = String(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(owner);
      await handle.close();
      return { release: () => releaseLock(lockPath, owner) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && isAlive(holder)) {
      const who = holder === process.pid ? 'this process (it is already open)' : `process ${holder}`;
      throw new DataDirectoryInUseError(
        `the PGlite database in ${describe} is in use by ${who}; stop it first, or use PostgreSQL (DATABASE_URL)`,
      );
    }
    // Left behind by a process that died without closing: safe to take over.
    await unlink(lockPath).catch(() => undefined);
  }
  throw new DataDirectoryInUseError(`could not lock the PGlite database in ${describe} (${lockPath})`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseLock(lockPath: string, owner: string): Promise<void> {
  const content = await readFile(lockPath, 'utf8').catch(() => null);
  if (content === owner) await unlink(lockPath).catch(() => undefined);
}
