// SSRF: a webhook URL must not reach this server's own network. Checked when an endpoint is
// registered and again at every delivery, against the address the request then connects to (a name
// that resolved to a public address at registration may resolve to 127.0.0.1 later).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export class RefusedAddressError extends Error {
  readonly code = 'WEBHOOK_ADDRESS_REFUSED';
  constructor(
    readonly host: string,
    readonly address: string | null,
  ) {
    super(
      address === null
        ? `${host} does not resolve to any address`
        : `${host} resolves to ${address}, a loopback, private, link-local or otherwise internal address; webhooks are only sent to public addresses (WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true allows them)`,
    );
    this.name = 'RefusedAddressError';
  }
}

/**
 * Addresses that are not the public internet. `BlockList` also matches an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`) against the IPv4 ranges.
 */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible addresses
  ['64:ff9b:1::', 48], // local-use NAT64
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * The addresses `host` resolves to, all of them allowed; throws `RefusedAddressError` when any is
 * internal (unless `allowPrivate`) or there is none. What a delivery connects to is one of these.
 */
export async function resolveAllowed(host: string, allowPrivate: boolean): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const literal = isIP(host);
  const addresses = literal !== 0 ? [{ address: host, family: literal as 4 | 6 }] : ((await lookup(host, { all: true, verbatim: true })) as Array<{ address: string; family: 4 | 6 }>);
  if (addresses.length === 0) throw new RefusedAddressError(host, null);
  if (!allowPrivate) {
    const internal = addresses.find((entry) => isInternalAddress(entry.address));
    if (internal) throw new RefusedAddressError(host, internal.address);
  }
  return addresses;
}
