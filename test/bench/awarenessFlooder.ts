/**
 * A hostile client for the flood scenario, run as its own process so that making its frames does
 * not take the event loop of the process that measures the honest editors: it opens one socket,
 * authenticates to one scene, and sends awareness updates (each a new clock of one client, as a
 * cursor that never stops moving) as fast as the socket takes them. When the server closes the
 * socket it connects again after one second, as a provider would, and floods again.
 *
 *   node --import tsx test/bench/awarenessFlooder.ts <wsUrl> <sceneId> <token>
 *
 * It tells its parent (IPC) `{ type: 'authenticated' }` after its first authentication and, on the
 * message `stop`, `{ type: 'report', ... }` with what it sent and how its sockets ended.
 */
import { setPriority } from 'node:os';
import { CURRENT_EDITOR } from '../helpers/clients.ts';
import { frames, RawClient } from '../guards/frames.ts';

const [wsUrl, sceneId, token] = process.argv.slice(2) as [string, string, string];
/** Frames waiting in the socket's buffer before the pump yields: "as fast as its socket allows". */
const HIGH_WATER_BYTES = 1024 * 1024;
const FRAMES_PER_TURN = 200;
const RECONNECT_DELAY_MS = 1000;

export interface FlooderReport {
  type: 'report';
  sent: number;
  connections: number;
  /** How the server ended each socket it closed. */
  closes: Array<{ code: number; reason: string }>;
  /** When (`Date.now()`) each socket was authenticated and when it closed. */
  events: Array<{ at: number; event: 'authenticated' | 'closed' }>;
}

// Lowest CPU priority: on a machine shared with the server and the editors, the work of making
// frames would otherwise be measured as the server's slowness; a remote attacker's CPU is its own.
setPriority(19);

const clientId = 1 + Math.floor(Math.random() * 2 ** 30);
const state = (clock: number) => JSON.stringify({ user: { name: 'Flooder', color: '#ff0000' }, cursor: { anchor: clock % 500, head: clock % 500 } });
let clock = 0;
let sent = 0;
let connections = 0;
let stopped = false;
let announced = false;
let current: RawClient | null = null;
const closes: FlooderReport['closes'] = [];
const events: FlooderReport['events'] = [];

async function connect(): Promise<void> {
  const client = new RawClient(wsUrl, CURRENT_EDITOR);
  current = client;
  connections += 1;
  void client.closedPromise.then((closed) => {
    if (stopped) return;
    closes.push(closed);
    events.push({ at: Date.now(), event: 'closed' });
    setTimeout(() => void connect(), RECONNECT_DELAY_MS);
  });
  try {
    await client.authenticate(sceneId, token);
  } catch (error) {
    // Refused, or the socket was closed before the answer: the close above schedules the next try.
    if (!client.closed) fail(error);
    return;
  }
  events.push({ at: Date.now(), event: 'authenticated' });
  if (!announced) {
    announced = true;
    process.send?.({ type: 'authenticated' });
  }
  const pump = () => {
    if (stopped || client.closed) return;
    for (let i = 0; i < FRAMES_PER_TURN && client.socket.bufferedAmount < HIGH_WATER_BYTES; i += 1) {
      clock += 1;
      client.send(frames.awarenessState(sceneId, clientId, clock, state(clock)));
      sent += 1;
    }
    // A full buffer waits for the socket to drain instead of spinning: on a shared machine a spin
    // would take a core from the server and the editors, which a remote attacker would not.
    if (client.socket.bufferedAmount < HIGH_WATER_BYTES) setImmediate(pump);
    else setTimeout(pump, 1);
  };
  pump();
}

function fail(error: unknown): void {
  process.stderr.write(`flooder failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}

process.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  stopped = true;
  current?.close();
  process.send?.({ type: 'report', sent, connections, closes, events } satisfies FlooderReport, () => process.exit(0));
});

void connect();
