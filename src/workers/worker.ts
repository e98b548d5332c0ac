// The entry point of each worker thread of the pool (pool.ts): runs one task and answers with its
// outcome. A task's own error comes back as data (`TaskOutcome`), so that a rejection of the pool's
// promise always means the thread itself failed.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { describeTaskError, runTask, type TaskOutcome, type YjsTask, type YjsTaskResults } from './tasks.ts';

type Result = YjsTaskResults[YjsTask['kind']];

/**
 * The state or update a task made goes back without a copy: this thread keeps no reference to it.
 * Only a buffer the array fills is moved; a view on a larger buffer would take the rest along.
 */
function transferablesOf(task: YjsTask, value: Result): ArrayBuffer[] {
  const view =
    task.kind === 'replay'
      ? (value as YjsTaskResults['replay']).state
      : task.kind === 'contentUpdate' || task.kind === 'writeScreenplay'
        ? (value as Uint8Array | string | null)
        : null;
  if (view === null || typeof view === 'string' || view.byteOffset !== 0 || view.byteLength !== view.buffer.byteLength) return [];
  return [view.buffer as ArrayBuffer];
}

export default async function runInWorker(task: YjsTask): Promise<TaskOutcome<Result> | object> {
  let value: Result;
  try {
    value = await runTask(task);
  } catch (error) {
    return { ok: false, error: describeTaskError(error) };
  }
  const outcome: TaskOutcome<Result> = { ok: true, value };
  const transfer = transferablesOf(task, value);
  if (transfer.length === 0) return outcome;
  // piscina moves what `transferableSymbol` lists and hands the calling thread `valueSymbol`.
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return outcome;
    },
  });
}
