import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { fullSpeed } from '../../jobs/pacing.ts';
import { JobScheduler, type BackgroundJob, type JobContext } from '../../jobs/scheduler.ts';
import { waitFor } from '../helpers/clients.ts';

/** A job whose passes the test observes and controls. */
function probeJob(name: string, intervalMs: number, pass: (n: number, context: JobContext) => Promise<object> | object = () => ({})) {
  const runs: Array<{ start: number; end?: number }> = [];
  let active = 0;
  let maxActive = 0;
  const job: BackgroundJob = {
    name,
    intervalMs,
    async run(context) {
      const record: { start: number; end?: number } = { start: Date.now() };
      runs.push(record);
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        return await pass(runs.length, context);
      } finally {
        active -= 1;
        record.end = Date.now();
      }
    },
  };
  return { job, runs, maxActive: () => maxActive };
}

describe('JobScheduler', () => {
  it('runs each job on its interval and keeps going after a failed pass', async () => {
    const failing = probeJob('failing', 20, (n) => {
      if (n % 2 === 1) throw new Error(`pass ${n} failed`);
      return { n };
    });
    const steady = probeJob('steady', 30);
    const metrics = createMetrics({ defaultMetrics: false });
    const scheduler = new JobScheduler({ jobs: [failing.job, steady.job], logger: silentLogger(), metrics, initialDelayMs: () => 0 });
    scheduler.start();
    await waitFor(() => failing.runs.length >= 4 && steady.runs.length >= 3, 'several passes of both jobs');
    await scheduler.stop();
    const runs = await metrics.backgroundJobRuns.get();
    const count = (job: string, result: string) => runs.values.find((v) => v.labels.job === job && v.labels.result === result)?.value ?? 0;
    expect(count('failing', 'failed')).toBeGreaterThanOrEqual(2);
    expect(count('failing', 'ok')).toBeGreaterThanOrEqual(1);
    expect(count('steady', 'ok')).toBeGreaterThanOrEqual(3);
    const status = scheduler.status().find((s) => s.name === 'failing')!;
    expect(status.lastStartedAt).toBeInstanceOf(Date);
    expect(status.nextRunAt).toBeNull();
  });

  it('paces a scheduled pass by its duty cycle, and runs a pass asked for on demand at full speed', async () => {
    const seen: Array<{ onDemand: boolean; paused: number }> = [];
    const busy = probeJob('busy', 60_000, async (_, context) => {
      const start = Date.now();
      while (Date.now() - start < 20) {
        // 20 ms of work before the pause
      }
      const before = Date.now();
      await context.pace();
      seen.push({ onDemand: context.pace === fullSpeed, paused: Date.now() - before });
      return {};
    });
    const scheduler = new JobScheduler({ jobs: [busy.job], logger: silentLogger(), initialDelayMs: () => 0, dutyCycle: 0.5 });
    scheduler.start();
    await waitFor(() => seen.length === 1, 'the scheduled pass');
    await scheduler.runNow('busy');
    await scheduler.stop();
    expect(seen[0]!.onDemand).toBe(false);
    // At half the wall time, 20 ms of work or more is followed by as long a pause.
    expect(seen[0]!.paused).toBeGreaterThanOrEqual(19);
    expect(seen[1]!.onDemand).toBe(true);
  });

  it('never overlaps two passes of one job, also when an operator asks for one', async () => {
    const slow = probeJob('slow', 5, async () => {
      await sleep(40);
      return {};
    });
    const scheduler = new JobScheduler({ jobs: [slow.job], logger: silentLogger(), initialDelayMs: () => 0 });
    scheduler.start();
    await Promise.all([scheduler.runNow('slow'), scheduler.runNow('slow'), sleep(150)]);
    await scheduler.stop();
    expect(slow.runs.length).toBeGreaterThanOrEqual(3);
    expect(slow.maxActive()).toBe(1);
  });

  it('stop() aborts a running pass between units of work and waits for it', async () => {
    let units = 0;
    const long = probeJob('long', 10, async (_n, { signal }) => {
      while (!signal.aborted) {
        units += 1;
        await sleep(5);
      }
      return { units, aborted: true };
    });
    const scheduler = new JobScheduler({ jobs: [long.job], logger: silentLogger(), initialDelayMs: () => 0 });
    scheduler.start();
    await waitFor(() => units > 3, 'the pass is running');
    await scheduler.stop();
    expect(long.runs).toHaveLength(1);
    expect(long.runs[0]!.end).toBeDefined();
    const after = long.runs.length;
    await sleep(50);
    expect(long.runs.length).toBe(after);
  });

  it('leaves a job with interval 0 out of the schedule but can still run it on request', async () => {
    const manual = probeJob('manual', 0, () => ({ ok: true }));
    const scheduler = new JobScheduler({ jobs: [manual.job], logger: silentLogger(), initialDelayMs: () => 0 });
    scheduler.start();
    await sleep(30);
    expect(manual.runs).toHaveLength(0);
    expect(await scheduler.runNow('manual')).toEqual({ ok: true });
    await expect(scheduler.runNow('unknown')).rejects.toThrow(/no background job named unknown/);
    await scheduler.stop();
  });

  it('spreads passes with jitter and starts after the initial delay', async () => {
    const job = probeJob('jittered', 1000);
    const scheduler = new JobScheduler({ jobs: [job.job], logger: silentLogger(), random: () => 0 });
    scheduler.start();
    // Default initial delay with random() = 0: half of min(interval, 60 s).
    const next = scheduler.status()[0]!.nextRunAt!.getTime() - Date.now();
    expect(next).toBeGreaterThan(400);
    expect(next).toBeLessThanOrEqual(500);
    await scheduler.stop();
  });
});
