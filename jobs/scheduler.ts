import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';
import { DutyCycle, fullSpeed, type Pace } from './pacing.ts';

/** What a job reports while it runs (the command line prints it; the scheduler logs it at debug). */
export interface JobProgress {
  /** Units of work (scenes) finished so far in this pass. */
  done: number;
  sceneId?: string;
  /** One short line, e.g. "compacted 120 rows". */
  detail?: string;
}

export interface JobContext {
  /** Aborted on shutdown: a pass stops between two units of work. */
  signal: AbortSignal;
  progress: (progress: JobProgress) => void;
  /**
   * Called between two units of work: waits as long as the scheduler's duty cycle asks
   * (jobs/pacing.ts). A pass run on demand (`runNow`) is not paced.
   */
  pace: Pace;
}

/** One background job: a pass over the work that is due, given its dependencies. */
export interface BackgroundJob<Summary extends object = object> {
  name: string;
  /** Pause between the end of one pass and the start of the next; 0 keeps the job out of the schedule. */
  intervalMs: number;
  run(context: JobContext): Promise<Summary>;
}

export interface JobStatus {
  name: string;
  intervalMs: number;
  running: boolean;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastSummary: object | null;
  lastError: string | null;
  nextRunAt: Date | null;
}

export interface JobSchedulerConfiguration {
  jobs: BackgroundJob[];
  logger: Logger;
  metrics?: Pick<Metrics, 'backgroundJobRuns' | 'backgroundJobDuration'>;
  /**
   * Delay before a job's first pass; default: between half and all of min(interval, 60 s), so a
   * server that starts is not busy with every job at once and restarted instances spread out.
   */
  initialDelayMs?: (job: BackgroundJob) => number;
  /** Each pause is stretched or shrunk by up to this fraction, so instances drift apart (0.1). */
  jitter?: number;
  random?: () => number;
  /** Fraction of its wall time a scheduled pass may be busy (`JOBS_DUTY_CYCLE`; default 1, never paused). */
  dutyCycle?: number;
}

interface JobState {
  job: BackgroundJob;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  status: JobStatus;
}

/**
 * Runs the background jobs inside the server, each on its own interval. A job never overlaps
 * itself in this process (the next pass is scheduled when the previous one ends); across
 * instances, the jobs guard their work with PostgreSQL advisory locks. A pass that fails is logged
 * and the schedule goes on. `stop()` cancels the timers, asks running passes to stop between two
 * units of work and waits for them.
 */
export class JobScheduler {
  private readonly configuration: Required<Omit<JobSchedulerConfiguration, 'metrics'>> & Pick<JobSchedulerConfiguration, 'metrics'>;
  private readonly states = new Map<string, JobState>();
  private readonly abort = new AbortController();
  private started = false;
  private stopped = false;

  constructor(configuration: JobSchedulerConfiguration) {
    const random = configuration.random ?? Math.random;
    this.configuration = {
      initialDelayMs: (job) => Math.min(job.intervalMs, 60_000) * (0.5 + random() / 2),
      jitter: 0.1,
      random,
      ...configuration,
      dutyCycle: configuration.dutyCycle ?? 1,
    };
    for (const job of configuration.jobs) {
      if (this.states.has(job.name)) throw new Error(`two background jobs are named ${job.name}`);
      this.states.set(job.name, {
        job,
        timer: null,
        running: null,
        status: {
          name: job.name,
          intervalMs: job.intervalMs,
          running: false,
          lastStartedAt: null,
          lastFinishedAt: null,
          lastSummary: null,
          lastError: null,
          nextRunAt: null,
        },
      });
    }
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const state of this.states.values()) {
      if (state.job.intervalMs > 0) this.schedule(state, this.configuration.initialDelayMs(state.job));
    }
    this.configuration.logger.info(
      { jobs: [...this.states.values()].filter((s) => s.job.intervalMs > 0).map((s) => `${s.job.name}/${s.job.intervalMs}ms`) },
      'background jobs scheduled',
    );
  }

  /**
   * Runs one pass of `name` now (an operator's request), or waits for the pass already running.
   * Resolves with the pass's summary and rejects with its error.
   */
  async runNow(name: string, progress: JobContext['progress'] = () => {}): Promise<object> {
    const state = this.states.get(name);
    if (!state) throw new Error(`no background job named ${name}; known: ${[...this.states.keys()].join(', ')}`);
    while (state.running) await state.running;
    return this.runPass(state, progress, true) as Promise<object>;
  }

  status(): JobStatus[] {
    return [...this.states.values()].map((state) => ({ ...state.status }));
  }

  /** Cancels the schedule and waits for running passes, which stop between two units of work. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const state of this.states.values()) {
      if (state.timer) clearTimeout(state.timer);
      state.timer = null;
      state.status.nextRunAt = null;
    }
    await Promise.all([...this.states.values()].map((state) => state.running));
  }

  private schedule(state: JobState, delayMs: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, Math.round(delayMs));
    state.status.nextRunAt = new Date(Date.now() + delay);
    state.timer = setTimeout(async () => {
      state.timer = null;
      // An operator's `runNow` may be running this job: never two passes of one job at once.
      while (state.running) await state.running;
      if (this.stopped) return;
      await this.runPass(state, (p) => this.configuration.logger.debug({ job: state.job.name, ...p }, 'job progress'), false);
      const { jitter, random } = this.configuration;
      this.schedule(state, state.job.intervalMs * (1 + jitter * (2 * random() - 1)));
    }, delay);
    // The schedule alone must not keep a process alive that is otherwise done.
    state.timer.unref();
  }

  /** A scheduled pass is paced by the duty cycle and logs its failure; one run on demand (`onDemand`) is neither. */
  private runPass(state: JobState, progress: JobContext['progress'], onDemand: boolean): Promise<object | undefined> {
    const { logger, metrics } = this.configuration;
    const { job, status } = state;
    const started = Date.now();
    status.running = true;
    status.lastStartedAt = new Date(started);
    const endTimer = metrics?.backgroundJobDuration.startTimer({ job: job.name });
    const dutyCycle = this.configuration.dutyCycle ?? 1;
    const pacing = onDemand || dutyCycle >= 1 ? null : new DutyCycle({ dutyCycle }, this.abort.signal);
    const pass = job.run({ signal: this.abort.signal, progress, pace: pacing?.pause ?? fullSpeed }).then(
      (summary) => {
        status.lastSummary = summary;
        status.lastError = null;
        metrics?.backgroundJobRuns.inc({ job: job.name, result: 'ok' });
        const paused = pacing ? { pausedMs: Math.round(pacing.pausedMs) } : {};
        logger.info({ job: job.name, durationMs: Date.now() - started, ...paused, ...summary }, 'background job pass finished');
        return summary;
      },
      (error: unknown) => {
        status.lastError = error instanceof Error ? error.message : String(error);
        metrics?.backgroundJobRuns.inc({ job: job.name, result: 'failed' });
        logger.error({ err: error, job: job.name, durationMs: Date.now() - started }, 'background job pass failed; it runs again at its next interval');
        if (onDemand) throw error;
        return undefined;
      },
    );
    const settled = pass
      .catch(() => undefined)
      .finally(() => {
        endTimer?.();
        status.running = false;
        status.lastFinishedAt = new Date();
        if (state.running === settled) state.running = null;
      })
      .then(() => undefined);
    state.running = settled;
    return pass;
  }
}
