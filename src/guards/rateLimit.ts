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
  const tokens = tokensAt(bucket, limit, now);
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, updatedAt: now } };
  return { allowed: false, bucket: { tokens, updatedAt: now } };
}

/** How long until the bucket holds a whole token again (0 when it holds one now). */
export function tokenWait(bucket: TokenBucket, limit: RateLimit, now: number): number {
  const tokens = tokensAt(bucket, limit, now);
  return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 60_000) / limit.perMinute);
}

/** What the bucket holds at `now`, refilled since its last update. */
function tokensAt(bucket: TokenBucket, limit: RateLimit, now: number): number {
  // A clock that steps backwards must not mint tokens or drain them.
  const elapsed = Math.max(0, now - bucket.updatedAt);
  return Math.min(limit.capacity, bucket.tokens + (elapsed * limit.perMinute) / 60_000);
}
