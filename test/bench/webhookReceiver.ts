/**
 * The webhooks benchmark's receiver, in a process of its own (`node webhookReceiver.ts`, with an
 * IPC channel): a receiving service is not the process whose editors' latency is measured, and
 * taking ten scenes' deliveries every window in that process put its cost into the editors' p99.
 * It reads each delivery's seq from its event id header (`parseEventId`), drops the body unread,
 * and answers the message `deliveries` with every delivery so far.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEventId } from '../../src/webhooks/events.ts';
import { EVENT_ID_HEADER } from '../../src/webhooks/signing.ts';

/** One delivery as the receiver saw it. */
export interface ReceivedDelivery {
  endpoint: string;
  seq: number;
  receivedAt: number;
}

/** What the receiver process sends its parent. */
export type ReceiverMessage = { type: 'listening'; port: number } | { type: 'deliveries'; deliveries: ReceivedDelivery[] };

if (process.send) {
  const deliveries: ReceivedDelivery[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { seq } = parseEventId(String(req.headers[EVENT_ID_HEADER.toLowerCase()]));
      deliveries.push({ endpoint: req.url ?? '', seq: Number(seq), receivedAt: Date.now() });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ type: 'listening', port: (server.address() as AddressInfo).port } satisfies ReceiverMessage));
  process.on('message', (message: unknown) => {
    if (message === 'deliveries') process.send!({ type: 'deliveries', deliveries } satisfies ReceiverMessage);
  });
  // The parent going away ends the receiver.
  process.on('disconnect', () => process.exit(0));
}
