import { SceneNotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { coalesce } from './coalesce.ts';
import { AlreadyInLog, type AppendEntry, type AppendOutcome, type SceneLog } from './sceneLog.ts';

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
  /** `performance.now()` at `append`, for the queue-wait histogram. */
  queuedAt: number;
  resolve: (outcome: AppendOutcome) => void;
  reject: (error: Error) => void;
}

export interface GroupCommitOptions {
  maxBatch: number;
  /** Most updates of one writer's run merged into one row (see `coalesce`); 1 stores every update in its own row. */
  maxUpdatesPerRow: number;
  /**
   * Independent queues, each with at most one INSERT in flight. A scene always goes to the same
   * lane, so its updates are written in the order they were appended; different scenes can be
   * written at the same time.
   */
  lanes: number;
  /** How often a batch is retried after a transient database error before its updates are refused. */
  retries: number;
  metrics?: Metrics;
  logger: Logger;
  /** Called after each batch that stored something has committed: the change feed's wake-up (src/changes). */
  onCommitted?: () => void;
}

// Deadlocks and serialisation failures are worth one more try; anything else is reported at once
// so the client is told (and reconnects) instead of waiting on a database that is down.
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** One queue and the write that drains it. */
interface Lane {
  queue: Pending[];
  running: Promise<void> | null;
}

/**
 * Group commit for the append log. While a lane's INSERT is in flight, updates from every
 * connection whose scene maps to that lane queue up and go together in its next one. Nothing waits
 * on a timer: an update that arrives on an idle lane is written in the same turn of the event loop
 * (after `setImmediate`, so that messages already read from the sockets in this turn join it).
 *
 * With several lanes, two scenes' batches can be in the database at once: while one commits (an
 * fsync) the next is already being inserted. Each scene stays on one lane, so a scene's rows are
 * still written one batch after another, in the order `append` was called. Batches on different
 * lanes never wait for each other's locks: a scene's log head is only ever locked by its own lane
 * (on this instance).
 */
export class GroupCommitQueue {
  private readonly lanes: Lane[];
  private closed = false;

  constructor(
    private readonly log: SceneLog,
    private readonly options: GroupCommitOptions,
  ) {
    this.lanes = Array.from({ length: Math.max(1, options.lanes) }, () => ({ queue: [], running: null }));
  }

  /**
   * Resolves once the update is committed, or with `AlreadyInLog` when the log held it already
   * (nothing was stored, and nothing needs to be); rejects when it was not stored.
   */
  append(entry: AppendEntry): Promise<AppendOutcome> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    const lane = this.laneOf(entry.sceneId);
    return new Promise((resolve, reject) => {
      lane.queue.push({ entry, queuedAt: performance.now(), resolve, reject });
      if (!lane.running) lane.running = this.drainSoon(lane);
    });
  }

  get pending(): number {
    return this.lanes.reduce((count, lane) => count + lane.queue.length, 0);
  }

  /** Stops taking updates and waits for everything queued to be committed (or refused). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
  }

  /** Waits until everything queued so far has been written. */
  async flushed(): Promise<void> {
    for (const lane of this.lanes) while (lane.running) await lane.running;
  }

  /** The lane of a scene: a hash of its id, the same for the queue's whole life. */
  private laneOf(sceneId: string): Lane {
    if (this.lanes.length === 1) return this.lanes[0]!;
    let hash = 0x811c9dc5;
    for (let i = 0; i < sceneId.length; i += 1) hash = Math.imul(hash ^ sceneId.charCodeAt(i), 0x01000193);
    return this.lanes[(hash >>> 0) % this.lanes.length]!;
  }

  private drainSoon(lane: Lane): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain(lane))
      .finally(() => {
        lane.running = null;
        // Entries that arrived while the last batch was finishing start the next round.
        if (lane.queue.length > 0) lane.running = this.drainSoon(lane);
      });
  }

  private async drain(lane: Lane): Promise<void> {
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.options.maxBatch);
      await this.writeBatch(batch);
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const { metrics } = this.options;
    metrics?.appendBatchSize.observe(batch.length);
    if (metrics) {
      const startedAt = performance.now();
      for (const pending of batch) metrics.appendQueueWait.observe((startedAt - pending.queuedAt) / 1000);
    }
    const { rows, rowOf } = coalesce(
      batch.map((p) => p.entry),
      this.options.maxUpdatesPerRow,
    );
    let attempt = 0;
    for (;;) {
      const stop = metrics?.appendLatency.startTimer();
      try {
        const results = await this.log.append(rows);
        stop?.();
        batch.forEach((pending, i) => {
          const result = results[rowOf[i]!]!;
          if (result instanceof SceneNotFoundError) {
            metrics?.persistErrors.inc({ reason: 'scene_not_found' });
            pending.reject(result);
          } else {
            if (result instanceof AlreadyInLog) metrics?.updatesSkipped.inc({ reason: 'already_in_log' });
            pending.resolve(result);
          }
        });
        this.options.onCommitted?.();
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
