import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config validation lists every problem at once', () => {
  it('reports a bad number, a bad choice and two cross-variable problems together', () => {
    const problems = problemsOf({ PORT: 'abc', LOG_LEVEL: 'loud', APPEND_LANES: '20', AUTH_JWT_SECRET: 'short' });
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/number/);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toBeDefined();
    expect(problems.find((p) => p.startsWith('APPEND_LANES:'))).toMatch(/less than DATABASE_POOL_SIZE \(10\)/);
    expect(problems.find((p) => p.startsWith('AUTH_JWT_SECRET:'))).toMatch(/at least 32 characters/);
  });

  it('skips a cross-variable check whose variable did not parse, instead of judging its default', () => {
    // DATABASE_POOL_SIZE=abc would read as 10 and make APPEND_LANES=20 a second, made-up problem.
    expect(problemsOf({ DATABASE_POOL_SIZE: 'abc', APPEND_LANES: '20' })).toEqual(['DATABASE_POOL_SIZE: must be a number']);
    expect(problemsOf({ HTTP_PORT: 'x', PORT: '3000' })).toHaveLength(1);
  });

  it('still accepts a good configuration', () => {
    expect(problemsOf({ PORT: '1234', LOG_FORMAT: 'json' })).toEqual([]);
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({}).logFormat).toBe('auto');
  });
});
