import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, RefusedAddressError, resolveAllowed } from './addresses.ts';

export type SendResult =
  | { ok: true; status: number }
  | { ok: false; reason: 'status' | 'timeout' | 'network' | 'refused_address'; status?: number; message: string };

/** How much of a receiver's answer is read (and thrown away): enough to reuse nothing and hang on nothing. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs one delivery. The connection goes to an address checked here, not to whatever the name
 * resolves to when the socket connects: the `lookup` given to the request resolves the host, refuses
 * internal addresses (unless allowed) and hands the socket the address it checked, so a DNS answer
 * that changes between the check and the connect (rebinding) cannot reach an internal service.
 * The whole exchange is bounded by `timeoutMs`.
 */
export async function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivateAddresses: boolean },
): Promise<SendResult> {
  const target = new URL(url);
  const host = hostOf(target);
  let refused: RefusedAddressError | null = null;
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    resolveAllowed(host, options.allowPrivateAddresses).then(
      (addresses) => {
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: Error) => {
        if (error instanceof RefusedAddressError) refused = error;
        callback(error as NodeJS.ErrnoException, '', 0);
      },
    );
  };
  // An IP literal never goes through `lookup`: it is checked here.
  if (isIP(host) !== 0) {
    try {
      await resolveAllowed(host, options.allowPrivateAddresses);
    } catch (error) {
      return { ok: false, reason: 'refused_address', message: error instanceof Error ? error.message : String(error) };
    }
  }
  const signal = AbortSignal.timeout(options.timeoutMs);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body).toString(), 'User-Agent': 'writersroom-webhooks/1', ...headers },
        lookup,
        signal,
        agent: false,
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        const status = response.statusCode ?? 0;
        const finish = () =>
          resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, reason: 'status', status, message: `the receiver answered ${status}` });
        response.on('end', finish);
        response.on('close', finish);
        response.on('error', finish);
      },
    );
    request.on('error', (error) => {
      if (refused) resolve({ ok: false, reason: 'refused_address', message: (refused as RefusedAddressError).message });
      else if (signal.aborted) resolve({ ok: false, reason: 'timeout', message: `no answer within ${options.timeoutMs} ms` });
      else resolve({ ok: false, reason: 'network', message: error.message });
    });
    request.end(body);
  });
}
