import { describe, expect, it } from 'vitest';
import { describeRedisEndpoint, parseRedisUrl, reconnectDelay, RedisUrlError } from '../../src/redis/connection.ts';

describe('parseRedisUrl', () => {
  it.each([
    ['redis://127.0.0.1:6379', { host: '127.0.0.1', port: 6379 }],
    ['redis://cache', { host: 'cache', port: 6379 }],
    ['redis://:s%40cret@cache:6380/2', { host: 'cache', port: 6380, password: 's@cret', db: 2 }],
    ['redis://app:pw@cache:6379', { host: 'cache', port: 6379, username: 'app', password: 'pw' }],
    ['rediss://cache.example:6380', { host: 'cache.example', port: 6380, tls: {} }],
    ['redis://[::1]:6379', { host: '::1', port: 6379 }],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it.each(['http://cache:6379', 'redis://cache/notanumber', 'not a url'])('refuses %s', (url) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
  });

  it('never shows the password in descriptions', () => {
    expect(describeRedisEndpoint(parseRedisUrl('redis://app:pw@cache:6379/1'))).toBe('redis://cache:6379/1');
  });
});

describe('reconnectDelay', () => {
  it('doubles from the minimum and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((attempt) => reconnectDelay(attempt, 250, 5000))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });
});
