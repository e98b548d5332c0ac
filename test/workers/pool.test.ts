import { readdir, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { YjsWorkClosedError, YjsWorkerError } from '../../src/workers/errors.ts';
import { packUpdates } from '../../src/log/packed.ts';
import { inlineYjsWork, YjsWorkerPool } from '../../src/workers/pool.ts';
import { rowsOf, typedParagraphs } from './support.ts';

/** What a pool must survive: a thread that dies mid-task, a task that throws, and shutting down. */
describe('the Yjs worker pool', () => {
  const pools: YjsWorkerPool[] = [];
  const newPool = () => {
    const pool = new YjsWorkerPool({ threads: 1, logger: silentLogger() });
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  // Large enough that its replay is still running when the test acts on it: the thread has not
  // even received the task when `terminate` or `close` is called in the same turn.
  const large = rowsOf(typedParagraphs(20_000));
  const small = rowsOf(typedParagraphs(50));

  it.runIf(process.platform === 'linux')('runs its threads at the nice value it is given, the serving thread at its own', async () => {
    const pool = new YjsWorkerPool({ threads: 1, logger: silentLogger(), nice: 7 });
    pools.push(pool);
    await pool.replay(small);
    // /proc/self/task/<tid>/stat: field 19 is the thread's nice value (after the parenthesised name).
    const niceOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    const tasks = await readdir('/proc/self/task');
    const nices = await Promise.all(tasks.map(async (tid) => niceOf(await readFile(`/proc/self/task/${tid}/stat`, 'utf8'))));
    expect(nices).toContain(7);
    expect(niceOf(await readFile(`/proc/self/task/${process.pid}/stat`, 'utf8'))).toBe(0);
  });

  it('fails the task of a thread that dies with a clear error, and runs the next task on a new thread', async () => {
    const pool = newPool();
    await pool.replay(small);
    const [thread] = pool.workerThreads();
    expect(thread).toBeDefined();
    const replay = pool.replay(large).then(
      () => null,
      (error: unknown) => error,
    );
    await thread!.terminate();
    const error = await replay;
    expect(error).toBeInstanceOf(YjsWorkerError);
    expect(error).toMatchObject({ code: 'YJS_WORKER_FAILED', task: 'replay' });
    expect((error as Error).message).toMatch(/worker thread failed while running a replay task/);

    const again = await pool.replay(large);
    expect(Buffer.from(again.state).equals(Buffer.from((await inlineYjsWork.replay(large)).state))).toBe(true);
    expect(pool.workerThreads()).toHaveLength(1);
    expect(pool.workerThreads()[0]).not.toBe(thread);
  });

  it('rejects a task that throws with its own error and keeps serving', async () => {
    const pool = newPool();
    const garbage = new Uint8Array([255, 255, 255, 255, 1]);
    const here = await inlineYjsWork.blocksFromState(garbage).then(() => null, (error: unknown) => error as Error);
    const there = await pool.blocksFromState(garbage).then(() => null, (error: unknown) => error as Error);
    expect(here).toBeInstanceOf(Error);
    expect(there).toBeInstanceOf(Error);
    expect(there).not.toBeInstanceOf(YjsWorkerError);
    expect({ name: there!.name, message: there!.message }).toEqual({ name: here!.name, message: here!.message });
    expect(there!.stack).toContain('(in a worker thread)');

    const [thread] = pool.workerThreads();
    expect((await pool.replay(small)).applied).toBe(small.length);
    expect(pool.workerThreads()).toEqual([thread]);
  });

  it('waits on close for the tasks already handed in, then refuses new ones', async () => {
    const pool = newPool();
    const replaying = pool.replay(large);
    const deriving = pool.derive(packUpdates(large.map((row) => row.update)));
    const closed = pool.close();
    const late = await pool.replay(small).then(() => null, (error: unknown) => error);
    expect(late).toBeInstanceOf(YjsWorkClosedError);
    expect(late).toMatchObject({ code: 'YJS_WORK_CLOSED', task: 'replay' });

    expect((await replaying).applied).toBe(large.length);
    expect((await deriving).blocks).toHaveLength(large.length / 50);
    await closed;
    expect(pool.workerThreads()).toEqual([]);
  });

  it('starts no thread until it is given work', async () => {
    const pool = newPool();
    expect(pool.workerThreads()).toEqual([]);
    await pool.derive(packUpdates(small.map((row) => row.update)));
    expect(pool.workerThreads()).toHaveLength(1);
  });
});
