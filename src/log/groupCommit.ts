import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { AppendEntry, AppendedVersion, SceneLog } from './sceneLog.ts';
import { SceneNotFoundError } from './sceneLog.ts';

export class AppendFailedError extends Error {
  readonly code = 'APPEND_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppendFailedError';
  }
}

export class QueueClosedError extends Error {
  readonly code = 'SHUTTING_DOWN';
  constructor() {
    super('The server is shutting down; the update was not stored');
    this.name = 'QueueClosedError';
  }
}

interface Pending {
  entry: AppendEntry;
  resolve: (version: AppendedVersion) => void;
  reject: (error: Error) => void;
}

export interface GroupCommitOptions {
  maxBatch: number;
  /** How often a batch is retried after a transient database error before its updates are refused. */
  retries: number;
  metrics?: Metrics;
  logger: Logger;
}

// Deadlocks and serialisation failures are worth one more try; anything else is reported at once
// so the client is told (and reconnects) instead of waiting on a database that is down.
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/**
 * Group commit for the append log. While one INSERT is in flight, updates from every connection and
 * scene queue up and go together in the next one. Nothing waits on a timer: an update that arrives
 * on an idle queue is written in the same turn of the event loop (after `setImmediate`, so that
 * messages already read from the sockets in this turn join it).
 */
export class GroupCommitQueue {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly log: SceneLog,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Resolves once the update is committed; rejects when it was not stored. */
  append(entry: AppendEntry): Promise<AppendedVersion> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (!this.running) this.running = this.drainSoon();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Stops taking updates and waits for everything queued to be committed (or refused). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
  }

  /** Waits until everything queued so far has been written. */
  async flushed(): Promise<void> {
    while (this.running) await this.running;
  }

  private drainSoon(): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.running = null;
        // Entries that arrived while the last batch was finishing start the next round.
        if (this.queue.length > 0) this.running = this.drainSoon();
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      await this.writeBatch(batch);
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const { metrics } = this.options;
    metrics?.appendBatchSize.observe(batch.length);
    let attempt = 0;
    for (;;) {
      const stop = metrics?.appendLatency.startTimer();
      try {
        const results = await this.log.append(batch.map((p) => p.entry));
        stop?.();
        results.forEach((result, i) => {
          const pending = batch[i]!;
          if (result instanceof SceneNotFoundError) {
            metrics?.persistErrors.inc({ reason: 'scene_not_found' });
            pending.reject(result);
          } else {
            pending.resolve(result);
          }
        });
        return;
      } catch (error) {
        stop?.();
        if (attempt < this.options.retries && RETRYABLE_SQLSTATES.has(sqlState(error) ?? '')) {
          attempt += 1;
          continue;
        }
        metrics?.persistErrors.inc({ reason: 'database' }, batch.length);
        this.options.logger.error(
          { err: error, updates: batch.length, scenes: new Set(batch.map((p) => p.entry.sceneId)).size },
          'append failed; updates refused (clients will resend after reconnecting)',
        );
        const failure = new AppendFailedError('The update could not be stored; reconnect and retry', { cause: error });
        for (const pending of batch) pending.reject(failure);
        return;
      }
    }
  }
}

/** The PostgreSQL SQLSTATE of an error from either driver adapter, when there is one. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth += 1) {
    const candidate = current as { code?: unknown; meta?: { code?: unknown }; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate.code;
    if (typeof candidate.meta?.code === 'string') return candidate.meta.code;
    current = candidate.cause;
  }
  return undefined;
}
