import { describe, expect, it } from 'vitest';
import { DutyCycle } from '../../jobs/pacing.ts';

/** A clock the test moves, and a sleep that moves it: the pacing is checked by arithmetic, not by waiting. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    work: (ms: number) => void (now += ms),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe('DutyCycle', () => {
  it('pauses after each unit for what keeps the work at its share of the wall time', async () => {
    const time = fakeTime();
    const pacing = new DutyCycle({ dutyCycle: 0.25, now: time.now, sleep: time.sleep });
    for (const unit of [40, 10, 100]) {
      time.work(unit);
      await pacing.pause();
    }
    expect(time.sleeps).toEqual([120, 30, 300]);
    expect(pacing.pausedMs).toBe(450);
    // Busy 150 ms of 600.
    expect(time.now()).toBe(600);
  });

  it('never pauses longer than its cap, nor at all at a duty cycle of 1 or for less than a millisecond of work', async () => {
    const time = fakeTime();
    const capped = new DutyCycle({ dutyCycle: 0.1, maxPauseMs: 500, now: time.now, sleep: time.sleep });
    time.work(1000);
    await capped.pause();
    const full = new DutyCycle({ dutyCycle: 1, now: time.now, sleep: time.sleep });
    time.work(1000);
    await full.pause();
    const tiny = new DutyCycle({ dutyCycle: 0.5, now: time.now, sleep: time.sleep });
    await tiny.pause();
    expect(time.sleeps).toEqual([500]);
  });

  it('does not pause once its pass is aborted, and wakes from a pause when it is', async () => {
    const abort = new AbortController();
    const pacing = new DutyCycle({ dutyCycle: 0.01, maxPauseMs: 60_000, now: () => Date.now() }, abort.signal);
    const start = Date.now();
    while (Date.now() - start < 5) {
      // at least 5 ms of work, so the pause asks for at least 0.5 s
    }
    const paused = pacing.pause();
    abort.abort();
    await paused;
    expect(pacing.pausedMs).toBeLessThan(500);
    await pacing.pause();
    expect(pacing.pausedMs).toBeLessThan(500);
  });

  it('refuses a duty cycle outside (0, 1]', () => {
    expect(() => new DutyCycle({ dutyCycle: 0 })).toThrow(RangeError);
    expect(() => new DutyCycle({ dutyCycle: 1.5 })).toThrow(RangeError);
  });
});
