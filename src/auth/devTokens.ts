import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { signAccessToken } from './tokens.ts';

export interface DevTokenIssuerConfiguration {
  /** The HS256 key; by default 32 random bytes made when the process starts and never written anywhere. */
  secret: Uint8Array;
  issuer?: string;
  audience?: string;
  /** Lifetime of an issued token in seconds (`AUTH_DEV_TOKEN_TTL_SECONDS`). */
  ttlSeconds: number;
  now: () => number;
}

const defaults = {
  now: Date.now,
} satisfies Partial<DevTokenIssuerConfiguration>;

/**
 * Issues tokens on a developer's machine, where no AUTH_JWT_SECRET is configured and NODE_ENV is
 * not production (`config.auth.devTokens`). The key exists only in this process, so a token is
 * worthless to any other server and to this one after a restart; in production the configuration
 * refuses to start without a secret, so this class is never constructed there.
 */
export class DevTokenIssuer {
  readonly secret: Uint8Array;
  private readonly configuration: DevTokenIssuerConfiguration;

  constructor(configuration: Partial<DevTokenIssuerConfiguration> & Pick<DevTokenIssuerConfiguration, 'ttlSeconds'>) {
    this.configuration = { ...defaults, secret: randomBytes(32), ...configuration };
    this.secret = this.configuration.secret;
  }

  async issue(options: { userId: string; admin?: boolean }): Promise<{ token: string; expiresAt: number }> {
    const { secret, issuer, audience, ttlSeconds, now } = this.configuration;
    return signAccessToken({ secret, userId: options.userId, admin: options.admin, ttlSeconds, issuer, audience, now });
  }
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/**
 * Whether a dev-token request may be answered: from a loopback peer, with a loopback Host header
 * (a page on another origin that rebinds its DNS name to 127.0.0.1 still sends its own name), and
 * not forwarded by a proxy on this machine (a local reverse proxy makes every peer look like
 * 127.0.0.1). Returns the reason it may not, or null.
 */
export function devTokenRequestProblem(request: { remoteAddress: string | undefined; host: string | undefined; forwarded: boolean }): string | null {
  if (!isLoopbackAddress(request.remoteAddress)) return 'dev tokens are issued to loopback clients only';
  if (request.forwarded) return 'dev tokens are not issued through a proxy';
  const host = (request.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host !== 'localhost' && !isLoopbackAddress(host)) return 'dev tokens are issued for a loopback Host only';
  return null;
}
