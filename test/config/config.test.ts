import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** The problems `loadConfig` reports for an environment, or [] when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('loadConfig', () => {
  it('has sane defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.limits).toMatchObject({ appendBatchMax: 1000, appendLanes: 2, appendMergeMax: 64 });
    expect(config.database.poolSize).toBe(10);
  });

  it('lists every invalid variable at once', () => {
    expect(problemsOf({ APPEND_LANES: 'two', APPEND_BATCH_MAX: '0', APPEND_MERGE_MAX: '-1' })).toEqual([
      expect.stringMatching(/^APPEND_BATCH_MAX: must be positive/),
      expect.stringMatching(/^APPEND_LANES: must be a number/),
      expect.stringMatching(/^APPEND_MERGE_MAX: must be positive/),
    ]);
  });

  it('checks variables against each other once each is valid', () => {
    expect(problemsOf({ PORT: '4000', HTTP_PORT: '4000', APPEND_LANES: '10' })).toEqual([
      expect.stringMatching(/^PORT and HTTP_PORT: must differ/),
      expect.stringMatching(/^APPEND_LANES: must be less than DATABASE_POOL_SIZE/),
    ]);
  });

  it('keeps a connection free for everything but the append lanes', () => {
    expect(problemsOf({ APPEND_LANES: '4', DATABASE_POOL_SIZE: '5' })).toEqual([]);
    expect(problemsOf({ APPEND_LANES: '5', DATABASE_POOL_SIZE: '5' })).toEqual([
      expect.stringMatching(/^APPEND_LANES: must be less than DATABASE_POOL_SIZE \(5\)/),
    ]);
  });
});
