import * as Y from 'yjs';
import { connectClient, waitFor, waitForSynced, type TestClient } from '../helpers/clients.ts';
import type { Target } from './targets.ts';
import { Typist } from './workload.ts';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN, count: sorted.length };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openClients(target: Target, sceneIds: string[], perScene: number, token: string): Promise<TestClient[]> {
  const clients = sceneIds.flatMap((sceneId) => Array.from({ length: perScene }, () => connectClient(target.wsUrl, sceneId, { token })));
  await Promise.all(clients.map((c) => waitForSynced(c, 30_000)));
  return clients;
}

export function closeClients(clients: TestClient[]): void {
  for (const client of clients) client.destroy();
}

/**
 * Types at a fixed total rate, round-robin over the clients, in 10 ms ticks. `keystroke` is called
 * for each keystroke with the client's index and does the typing (and whatever it records). Returns
 * a function that stops the pacing.
 */
export function paceKeystrokes(clientCount: number, rate: number, keystroke: (index: number) => void): () => void {
  const tickMs = 10;
  const perTick = (rate * tickMs) / 1000;
  let budget = 0;
  let next = 0;
  const timer = setInterval(() => {
    budget += perTick;
    while (budget >= 1) {
      budget -= 1;
      keystroke(next++ % clientCount);
    }
  }, tickMs);
  return () => clearInterval(timer);
}

/**
 * Maximum sustained throughput: every client types as fast as its acknowledgements allow, with at
 * most `window` unacknowledged keystrokes, and the acknowledged keystrokes per second are counted
 * over `seconds` after a warm-up. An acknowledgement from the durable server means "committed".
 */
export async function maxThroughput(
  target: Target,
  options: { sceneIds: string[]; clientsPerScene: number; seconds: number; window: number; token: string; seed: number },
): Promise<{ updatesPerSecond: number; acked: number }> {
  const clients = await openClients(target, options.sceneIds, options.clientsPerScene, options.token);
  return sustainedThroughput(clients, options);
}

/** `maxThroughput` over clients already open (on one server or spread over several); closes them. */
export async function sustainedThroughput(
  clients: TestClient[],
  options: { seconds: number; window: number; seed: number },
): Promise<{ updatesPerSecond: number; acked: number }> {
  let running = true;
  const typed = new Map<TestClient, number>();
  const pumps = clients.map((client, i) => {
    const typist = new Typist(client.doc, options.seed + i);
    typed.set(client, 0);
    const pump = () => {
      while (running && typed.get(client)! - client.acks() < options.window) {
        typist.keystroke();
        typed.set(client, typed.get(client)! + 1);
      }
    };
    client.provider.on('unsyncedChanges', pump);
    return pump;
  });
  pumps.forEach((pump) => pump());
  await sleep(1000);
  const ackedAt = () => clients.reduce((n, c) => n + c.acks(), 0);
  const start = ackedAt();
  const startedAt = performance.now();
  await sleep(options.seconds * 1000);
  const acked = ackedAt() - start;
  const elapsed = (performance.now() - startedAt) / 1000;
  running = false;
  await waitFor(() => clients.every((c) => !c.provider.hasUnsyncedChanges), 'drain', 60_000).catch(() => undefined);
  closeClients(clients);
  return { updatesPerSecond: acked / elapsed, acked };
}

/** One edit->peer sample: when the keystroke was typed (`Date.now()`, to line up with server logs) and how long a peer took to see it. */
export interface PeerSample {
  sentAt: number;
  latencyMs: number;
  /** Indexes in `clients` of the sender and of the peer (which instance each is on, for the multi-instance figures). */
  from: number;
  to: number;
}

/**
 * Types into one scene at a fixed total rate, round-robin over `clients`, and records for each
 * keystroke how long every other client took to see it: each keystroke's send time is recorded by
 * the sender's clock position; each peer notes when the update covering that position arrives.
 * Samples are kept while `recording()` says so. `stop()` stops the typing.
 */
export function samplePeerLatency(
  clients: readonly TestClient[],
  options: { rate: number; seed: number; recording: () => boolean },
): { samples: PeerSample[]; sent: () => number; stop: () => void } {
  const sends = new Map<number, Array<{ clock: number; at: number; sentAt: number }>>();
  const senderIndex = new Map(clients.map((c, i) => [c.doc.clientID, i]));
  const samples: PeerSample[] = [];
  for (const [peerIndex, peer] of clients.entries()) {
    const cursor = new Map<number, number>();
    peer.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== peer.provider) return;
      const now = performance.now();
      const { to } = Y.parseUpdateMeta(update);
      for (const [sender, toClock] of to) {
        const list = sends.get(sender);
        if (!list) continue;
        let i = cursor.get(sender) ?? 0;
        while (i < list.length && list[i]!.clock < toClock) {
          if (options.recording()) samples.push({ sentAt: list[i]!.sentAt, latencyMs: now - list[i]!.at, from: senderIndex.get(sender)!, to: peerIndex });
          i += 1;
        }
        cursor.set(sender, i);
      }
    });
  }
  const typists = clients.map((c, i) => new Typist(c.doc, options.seed + i));
  let sent = 0;
  const stop = paceKeystrokes(clients.length, options.rate, (index) => {
    const client = clients[index]!;
    const clock = Y.getState(client.doc.store, client.doc.clientID);
    typists[index]!.keystroke();
    if (Y.getState(client.doc.store, client.doc.clientID) > clock) {
      const list = sends.get(client.doc.clientID) ?? [];
      list.push({ clock, at: performance.now(), sentAt: Date.now() });
      sends.set(client.doc.clientID, list);
    }
    sent += 1;
  });
  return { samples, sent: () => sent, stop };
}

/** Edit-to-peer latency at a fixed total rate (`samplePeerLatency`), over `seconds` after a one-second warm-up. */
export async function peerLatency(
  target: Target,
  options: { sceneId: string; clients: number; rate: number; seconds: number; token: string; seed: number },
): Promise<Percentiles & { achievedRate: number }> {
  const clients = await openClients(target, [options.sceneId], options.clients, options.token);
  let recording = false;
  const sampler = samplePeerLatency(clients, { rate: options.rate, seed: options.seed, recording: () => recording });
  await sleep(1000);
  recording = true;
  const sentBefore = sampler.sent();
  const startedAt = performance.now();
  await sleep(options.seconds * 1000);
  recording = false;
  const achievedRate = (sampler.sent() - sentBefore) / ((performance.now() - startedAt) / 1000);
  sampler.stop();
  await sleep(500);
  closeClients(clients);
  return { ...percentiles(sampler.samples.map((sample) => sample.latencyMs)), achievedRate };
}

/** Time from opening a provider to its first sync, for a scene whose log is already populated. */
export async function connectToSynced(
  target: Target,
  options: { sceneId: string; repeats: number; token: string },
): Promise<Percentiles> {
  const samples: number[] = [];
  for (let i = 0; i < options.repeats; i += 1) {
    const startedAt = performance.now();
    const client = connectClient(target.wsUrl, options.sceneId, { token: options.token });
    // Timed by the provider's own event: polling would add up to a poll interval to every sample.
    const syncedAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`scene ${options.sceneId} did not sync in 30 s`)), 30_000);
      client.provider.on('synced', () => {
        clearTimeout(timer);
        resolve(performance.now());
      });
    });
    samples.push(syncedAt - startedAt);
    client.destroy();
    // Let the server unload the scene so the next connect loads it from the database again.
    await sleep(100);
  }
  return percentiles(samples);
}

/** Connect-to-synced, each scene opened once (scenes this server has not loaded before). */
export async function connectToEachOnce(target: Target, sceneIds: readonly string[], token: string): Promise<Percentiles> {
  const samples: number[] = [];
  for (const sceneId of sceneIds) samples.push((await connectToSynced(target, { sceneId, repeats: 1, token })).p50);
  return percentiles(samples);
}

/**
 * Edit to durable at a fixed rate. For this project a keystroke is durable when its
 * acknowledgement arrives (the server acknowledges after the commit); for the stock database
 * extension, when the next whole-document store that follows it completes (the comparison
 * server prints one line per store).
 */
export async function editToDurable(
  target: Target,
  options: { sceneId: string; clients: number; rate: number; seconds: number; token: string; seed: number },
): Promise<Percentiles | null> {
  if (target.name === 'floor') return null;
  const clients = await openClients(target, [options.sceneId], options.clients, options.token);
  const pending = new Map<TestClient, number[]>();
  const samples: number[] = [];
  const edits: number[] = [];
  let recording = false;
  for (const client of clients) {
    pending.set(client, []);
    if (target.name === 'durable') {
      const original = client.provider.decrementUnsyncedChanges.bind(client.provider);
      client.provider.decrementUnsyncedChanges = () => {
        const sentAt = pending.get(client)!.shift();
        if (sentAt !== undefined && recording) samples.push(Date.now() - sentAt);
        original();
      };
    }
  }
  const typists = clients.map((c, i) => new Typist(c.doc, options.seed + i));
  const stopTyping = paceKeystrokes(clients.length, options.rate, (index) => {
    const now = Date.now();
    pending.get(clients[index]!)!.push(now);
    if (recording) edits.push(now);
    typists[index]!.keystroke();
  });
  await sleep(1000);
  recording = true;
  await sleep(options.seconds * 1000);
  recording = false;
  stopTyping();
  if (target.name === 'database') {
    // The last edits are stored once the debounce (2 s) runs out after typing stops.
    await sleep(3500);
    const stores = target.lines
      .map((line) => JSON.parse(line) as { stored?: string; at?: number })
      .filter((event) => event.stored === options.sceneId)
      .map((event) => event.at!)
      .sort((a, b) => a - b);
    let s = 0;
    for (const editedAt of edits) {
      while (s < stores.length && stores[s]! <= editedAt) s += 1;
      if (s < stores.length) samples.push(stores[s]! - editedAt);
    }
  } else {
    await sleep(300);
  }
  closeClients(clients);
  return percentiles(samples);
}

/** What a server holds after a full collection: its JavaScript heap and the buffers it keeps. */
async function heldBytes(target: Target): Promise<number> {
  const { heapUsed, external } = await target.heap();
  return heapUsed + external;
}

/**
 * Memory a loaded scene costs the server, what is left once every client has gone, and how that
 * changes over more load/unload cycles, each read after a full collection (heapProbe.ts). A cycle
 * opens every scene with one client (content already stored, or for plain Hocuspocus brought by
 * the client), then closes them all and waits for the server to unload them.
 */
export async function memoryPerScene(
  target: Target,
  options: { sceneIds: string[]; token: string; seedContent?: Uint8Array; cycles: number },
): Promise<{ perSceneBytes: number; afterUnloadBytes: number; growthOverCyclesBytes: number }> {
  const cycle = async (measureLoaded: boolean) => {
    const clients = options.sceneIds.map((sceneId) => {
      const client = connectClient(target.wsUrl, sceneId, { token: options.token });
      // Plain Hocuspocus stores nothing, so its clients bring the content along.
      if (options.seedContent) Y.applyUpdate(client.doc, options.seedContent);
      return client;
    });
    await Promise.all(clients.map((c) => waitForSynced(c, 60_000)));
    // The content a client brought reaches the server after its sync; give it a moment.
    await sleep(500);
    const loaded = measureLoaded ? await heldBytes(target) : 0;
    closeClients(clients);
    // Stores on the debounce (database extension, 2 s) and unloads take a moment.
    await sleep(3500);
    return loaded;
  };
  // One unmeasured cycle first: code the server loads or compiles on first use is not a scene's.
  await cycle(false);
  const baseline = await heldBytes(target);
  const loaded = await cycle(true);
  const afterFirst = await heldBytes(target);
  for (let i = 0; i < options.cycles; i += 1) await cycle(false);
  const afterCycles = await heldBytes(target);
  return {
    perSceneBytes: (loaded - baseline) / options.sceneIds.length,
    afterUnloadBytes: afterFirst - baseline,
    growthOverCyclesBytes: afterCycles - afterFirst,
  };
}
