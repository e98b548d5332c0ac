/**
 * How a background pass shares the machine with the editors it runs beside: it works in short units
 * (a scene, a compaction, a chunk of marks) and calls `pause()` between them, which waits long
 * enough that the pass is busy for at most `dutyCycle` of its wall time. At 0.25 a unit that took
 * 40 ms is followed by 120 ms in which the database and the CPU serve editors only.
 *
 * Why a duty cycle and not only smaller units: on a small machine (2 cores) a pass that works
 * without a break keeps a database backend and a worker thread busy for seconds, and every commit
 * and every broadcast of the editors queues behind it for that whole time; the benchmark's jobs
 * scenario (`npm run bench -- --only=jobs`) measures how much. A pass that takes four times as long
 * costs nothing anyone waits for: the next pass is minutes away.
 */
export interface PacingOptions {
  /** Fraction of the wall time the pass may be busy, in (0, 1]; 1 never pauses. */
  dutyCycle: number;
  /** The longest single pause, so one slow unit does not stall the pass for long (default 2 s). */
  maxPauseMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type Pace = () => Promise<void>;

/** A pace that never waits: the command line's passes, and tests that want a pass at full speed. */
export const fullSpeed: Pace = async () => {};

export class DutyCycle {
  private readonly dutyCycle: number;
  private readonly maxPauseMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private busySince: number;
  /** Total time paused, for the pass's log line. */
  pausedMs = 0;

  constructor(
    options: PacingOptions,
    private readonly signal?: AbortSignal,
  ) {
    if (!(options.dutyCycle > 0 && options.dutyCycle <= 1)) throw new RangeError(`dutyCycle must be in (0, 1], not ${options.dutyCycle}`);
    this.dutyCycle = options.dutyCycle;
    this.maxPauseMs = options.maxPauseMs ?? 2000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.busySince = this.now();
  }

  /** Waits off the time the work since the last pause calls for; returns at once when aborted. */
  readonly pause: Pace = async () => {
    const busy = this.now() - this.busySince;
    const wait = Math.min(this.maxPauseMs, (busy * (1 - this.dutyCycle)) / this.dutyCycle);
    if (wait >= 1 && !this.signal?.aborted) {
      const before = this.now();
      await this.sleep(wait, this.signal);
      this.pausedMs += this.now() - before;
    }
    this.busySince = this.now();
  };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}
