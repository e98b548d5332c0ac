/**
 * A token bucket: `capacity` updates may arrive at once, and the bucket refills continuously at
 * `perMinute`. Over any interval of length T at most `capacity + perMinute * T / 60 s` updates pass,
 * so a client typing at any human speed is never refused while a runaway loop is stopped within a
 * second or two. The state is two numbers, so one per connection costs nothing.
 */
export interface TokenBucket {
  tokens: number;
  updatedAt: number;
}

export interface RateLimit {
  perMinute: number;
  capacity: number;
}

export function fullBucket(limit: RateLimit, now: number): TokenBucket {
  return { tokens: limit.capacity, updatedAt: now };
}

/** Takes one token if there is one; returns whether the update may pass and the new state. */
export function takeToken(bucket: TokenBucket, limit: RateLimit, now: number): { allowed: boolean; bucket: TokenBucket } {
  // A clock that steps backwards must not mint tokens or drain them.
  const elapsed = Math.max(0, now - bucket.updatedAt);
  const tokens = Math.min(limit.capacity, bucket.tokens + (elapsed * limit.perMinute) / 60_000);
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, updatedAt: now } };
  return { allowed: false, bucket: { tokens, updatedAt: now } };
}
