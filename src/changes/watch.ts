import type { ChangePosition } from '../log/changes.ts';
import { comparePositions } from '../log/changes.ts';
import type { Logger } from '../logger.ts';

export interface ChangeWatchConfiguration {
  /** The newest visible feed position (`sceneLog.changes.tip`). */
  tip: () => Promise<ChangePosition>;
  /** How often the tip is read while someone waits: how late a change made on another instance is seen. */
  pollMs: number;
  logger: Logger;
  /**
   * Wake-ups are at most this often (default 50 ms): commits come at typing rate, and every waiter
   * runs a query when woken, so a burst of commits wakes them once.
   */
  minWakeIntervalMs?: number;
}

/**
 * Wakes whoever waits for the change feed to move: long polls, event streams, the webhook
 * deliverer. This instance's commits wake them at once (`notify`, called by the group commit
 * queue); changes made elsewhere (another instance, a transaction such as a scene delete) are
 * found by one shared read of the feed's tip every `pollMs` while anyone waits, however many wait,
 * so a thousand open long polls cost one query per interval, not a thousand.
 */
export class ChangeWatch {
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private lastTip: ChangePosition | null = null;
  private polling = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private lastWake = 0;
  private closed = false;

  constructor(private readonly configuration: ChangeWatchConfiguration) {}

  /** Something committed on this instance: every waiter reads again (within `minWakeIntervalMs`). */
  notify(): void {
    if (this.waiters.size === 0 || this.wakeTimer) return;
    const delay = this.lastWake + (this.configuration.minWakeIntervalMs ?? 50) - Date.now();
    if (delay <= 0) this.wakeAll();
    else {
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = null;
        this.wakeAll();
      }, delay);
      this.wakeTimer.unref();
    }
  }

  private wakeAll(): void {
    this.lastWake = Date.now();
    const waiters = this.waiters;
    if (waiters.size === 0) return;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next change (or what may be one), after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted || timeoutMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timeout = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
      this.startPolling();
    });
  }

  /** Shutting down: every wait ends now and later ones return at once, so long polls and streams end. */
  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.timer = null;
    this.wakeTimer = null;
    this.wakeAll();
  }

  private startPolling(): void {
    if (this.timer || this.polling) return;
    this.timer = setTimeout(() => void this.poll(), this.configuration.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.timer = null;
    if (this.waiters.size === 0) return;
    this.polling = true;
    try {
      const tip = await this.configuration.tip();
      const moved = this.lastTip === null || comparePositions(tip, this.lastTip) !== 0;
      this.lastTip = tip;
      if (moved) this.notify();
    } catch (error) {
      this.configuration.logger.warn({ err: error }, 'change feed tip not read; waiters wake at their timeouts');
    } finally {
      this.polling = false;
    }
    if (this.waiters.size > 0) this.startPolling();
  }
}
