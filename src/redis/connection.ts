/**
 * What the Redis fan-out needs to know about `REDIS_URL`, as ioredis connection options:
 * `redis://[user[:password]@]host[:port][/db]`, `rediss://` for TLS.
 */
export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
}

export class RedisUrlError extends Error {
  readonly code = 'REDIS_URL_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError('REDIS_URL is not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new RedisUrlError('REDIS_URL must start with redis:// or rediss://');
  const endpoint: RedisEndpoint = { host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: parsed.port ? Number(parsed.port) : 6379 };
  if (parsed.username) endpoint.username = decodeURIComponent(parsed.username);
  if (parsed.password) endpoint.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') {
    if (!/^\d+$/.test(db)) throw new RedisUrlError('REDIS_URL: the path must be a database number');
    endpoint.db = Number(db);
  }
  if (parsed.protocol === 'rediss:') endpoint.tls = {};
  return endpoint;
}

/** For logs and health output: host, port and database, never a password. */
export function describeRedisEndpoint(endpoint: RedisEndpoint): string {
  return `${endpoint.tls ? 'rediss' : 'redis'}://${endpoint.host}:${endpoint.port}${endpoint.db !== undefined ? `/${endpoint.db}` : ''}`;
}

/** The delay before reconnection attempt `attempt` (1, 2, ...): doubling from `minMs`, capped at `maxMs`. */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
}
