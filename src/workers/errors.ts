/** A worker thread died or was stopped while it ran a task; the pool starts a new one for the next task. */
export class YjsWorkerError extends Error {
  readonly code = 'YJS_WORKER_FAILED';
  constructor(
    readonly task: string,
    cause: unknown,
  ) {
    super(`A worker thread failed while running a ${task} task, which was not done (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'YjsWorkerError';
  }
}

/** A task was handed to a pool that is shutting down or shut down. */
export class YjsWorkClosedError extends Error {
  readonly code = 'YJS_WORK_CLOSED';
  constructor(readonly task: string) {
    super(`The worker pool is shut down; a ${task} task was refused`);
    this.name = 'YjsWorkClosedError';
  }
}
