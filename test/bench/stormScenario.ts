/**
 * `--only=storm`: the reconnect storm after a deploy (issue 22, item 1). Editors spread over many
 * scenes are connected and typing; the server is restarted on the same port, once gracefully
 * (SIGTERM, then a new process) and once by SIGKILL. For every client: the time until it is synced
 * again; for every acknowledged update, whether the store still held it while the server was down
 * (read from the database between the two processes, before any client could send it again); and
 * for this project, the log rows the storm added.
 *
 * Typing stops when the signal is sent, so what a client saw acknowledged is fixed by the time its
 * socket closes: its first `acked` keystrokes, in order (one update and one acknowledgement each).
 * After the restart a client's provider sends what the server lacks (SyncStep2); only updates that
 * were never committed may add rows, at most one resend per client that had any unacknowledged.
 * Plain Hocuspocus stores nothing and the stock extension stores on a 2 s debounce: their losses on
 * SIGKILL are by design, reported beside ours.
 */
import pg from 'pg';
import * as Y from 'yjs';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, type TestClient } from '../helpers/clients.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { sized, type Report, type TargetName } from './report.ts';
import { closeClients, paceKeystrokes, percentiles, type Percentiles } from './scenarios.ts';
import { settleDatabase } from './storage.ts';
import { startComparison, startDurable, type RestartKind, type RestartTimes, type Target } from './targets.ts';
import { Typist } from './workload.ts';

const SIZES = {
  smoke: { scenes: 4, perScene: 5, typingMs: 1500 },
  quick: { scenes: 20, perScene: 10, typingMs: 2000 },
  full: { scenes: 50, perScene: 10, typingMs: 4000 },
};
/** Keystrokes a second per client: 500 clients type 1,000 a second together. */
const KEYSTROKES_PER_CLIENT_PER_SECOND = 2;
const RESYNC_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One editor in the storm and what it saw. */
interface StormClient {
  client: TestClient;
  sceneId: string;
  /** Its own updates, in the order typed. */
  updates: Uint8Array[];
  /** Acknowledgements counted before typing began (the sync's own). */
  acksBefore: number;
  /** Its keystrokes acknowledged when its socket closed (set at the close). */
  ackedAtClose: number | null;
  /** When it was synced again after the close (`Date.now()`). */
  resyncedAt: number | null;
}

export interface StormRound {
  kind: RestartKind;
  restart: RestartTimes;
  /** Signal to synced again, less the benchmark's read while the server was down. */
  fromSignal: Percentiles;
  /** The new process listening to synced again. */
  fromListening: Percentiles;
  keystrokes: number;
  acknowledged: number;
  /** Acknowledged updates the store did not hold while the server was down. */
  lostAcknowledged: number;
  /** Clients with keystrokes unacknowledged at the close: the most rows resends may add. */
  clientsWithUnacknowledged: number;
  /** Log rows the storm added (this project's server only). */
  rowsAdded: number | null;
}

/** Each scene's stored document, as the server would load it (or null: it stores nothing). */
async function storedDocuments(name: TargetName, pool: pg.Pool, sceneIds: string[]): Promise<Map<string, Y.Doc>> {
  const docs = new Map(sceneIds.map((id) => [id, new Y.Doc()]));
  if (name === 'durable') {
    const { rows } = await pool.query<{ scene_id: string; yjs_update: Buffer }>(
      'SELECT scene_id, yjs_update FROM scene_versions WHERE scene_id = ANY($1::uuid[]) AND compacted_by IS NULL ORDER BY scene_id, seq, is_compacted DESC',
      [sceneIds],
    );
    for (const row of rows) Y.applyUpdate(docs.get(row.scene_id)!, new Uint8Array(row.yjs_update));
  } else if (name === 'database') {
    const { rows } = await pool.query<{ name: string; data: Buffer }>('SELECT name, data FROM bench_documents WHERE name = ANY($1)', [sceneIds]);
    for (const row of rows) Y.applyUpdate(docs.get(row.name)!, new Uint8Array(row.data));
  }
  return docs;
}

async function logRows(pool: pg.Pool, sceneIds: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM scene_versions WHERE scene_id = ANY($1::uuid[])', [sceneIds]);
  return Number(rows[0]!.n);
}

async function stormRound(
  name: TargetName,
  target: Target,
  kind: RestartKind,
  options: { pool: pg.Pool; sceneIds: string[]; perScene: number; typingMs: number; token: string; seed: number },
): Promise<StormRound> {
  const storm: StormClient[] = options.sceneIds.flatMap((sceneId) =>
    Array.from({ length: options.perScene }, () => {
      const client = connectClient(target.wsUrl, sceneId, { token: options.token, persistent: true });
      const entry: StormClient = { client, sceneId, updates: [], acksBefore: 0, ackedAtClose: null, resyncedAt: null };
      client.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== client.provider) entry.updates.push(update);
      });
      return entry;
    }),
  );
  try {
    await waitFor(() => storm.every((s) => s.client.provider.isSynced), 'every storm client synced', 60_000);
    for (const s of storm) s.acksBefore = s.client.acks();
    const typists = storm.map((s, i) => new Typist(s.client.doc, options.seed + i));
    const stopTyping = paceKeystrokes(storm.length, storm.length * KEYSTROKES_PER_CLIENT_PER_SECOND, (i) => typists[i]!.keystroke());
    await sleep(options.typingMs);

    let restarting = false;
    for (const s of storm) {
      s.client.provider.on('close', () => {
        if (restarting && s.ackedAtClose === null) s.ackedAtClose = s.client.acks() - s.acksBefore;
      });
      s.client.provider.on('synced', () => {
        if (s.ackedAtClose !== null && s.resyncedAt === null) s.resyncedAt = Date.now();
      });
    }
    let stored = new Map<string, Y.Doc>();
    let rowsBefore: number | null = null;
    restarting = true;
    stopTyping();
    const restart = await target.restart(kind, async () => {
      stored = await storedDocuments(name, options.pool, options.sceneIds);
      if (name === 'durable') rowsBefore = await logRows(options.pool, options.sceneIds);
    });
    await waitFor(() => storm.every((s) => s.resyncedAt !== null), 'every storm client synced again', RESYNC_TIMEOUT_MS);
    await waitFor(() => storm.every((s) => !s.client.provider.hasUnsyncedChanges), 'every resend acknowledged', RESYNC_TIMEOUT_MS);
    const rowsAdded = rowsBefore === null ? null : (await logRows(options.pool, options.sceneIds)) - rowsBefore;

    let lost = 0;
    let acknowledged = 0;
    let keystrokes = 0;
    let clientsWithUnacknowledged = 0;
    const snapshots = new Map([...stored].map(([id, doc]) => [id, Y.snapshot(doc)]));
    for (const s of storm) {
      const acked = Math.min(s.ackedAtClose ?? 0, s.updates.length);
      keystrokes += s.updates.length;
      acknowledged += acked;
      if (acked < s.updates.length) clientsWithUnacknowledged += 1;
      const snapshot = snapshots.get(s.sceneId)!;
      for (const update of s.updates.slice(0, acked)) if (!Y.snapshotContainsUpdate(snapshot, update)) lost += 1;
    }
    const fromSignal = storm.map((s) => s.resyncedAt! - restart.signalledAt - restart.whileDownMs);
    const fromListening = storm.map((s) => s.resyncedAt! - restart.listeningAt);
    return {
      kind,
      restart,
      fromSignal: percentiles(fromSignal),
      fromListening: percentiles(fromListening),
      keystrokes,
      acknowledged,
      lostAcknowledged: lost,
      clientsWithUnacknowledged,
      rowsAdded,
    };
  } finally {
    closeClients(storm.map((s) => s.client));
  }
}

export async function stormScenario(report: Report): Promise<void> {
  const size = sized(report.size, SIZES);
  const clients = size.scenes * size.perScene;
  report.log(`\nreconnect storm: ${clients} clients on ${size.scenes} scenes typing ${clients * KEYSTROKES_PER_CLIENT_PER_SECOND}/s, restarted gracefully, then by SIGKILL`);
  const db = await createTestDatabase('postgres');
  const pool = new pg.Pool({ connectionString: db.databaseUrl, max: 2 });
  try {
    for (const name of ['floor', 'database', 'durable'] as const) {
      const target = name === 'durable' ? await startDurable(db.databaseUrl!) : await startComparison(name, name === 'database' ? db.databaseUrl : undefined);
      try {
        await settleDatabase(db.databaseUrl!);
        report.log(`\n${target.label}`);
        for (const kind of ['graceful', 'kill'] as const) {
          const fixture = await createScript(db.prisma, { scenes: size.scenes, title: `Storm ${name} ${kind}` });
          const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
          const round = await stormRound(name, target, kind, { pool, sceneIds: fixture.sceneIds, perScene: size.perScene, typingMs: size.typingMs, token, seed: report.seed });
          const how = kind === 'graceful' ? 'graceful restart' : 'SIGKILL';
          const scenario = 'storm';
          report.recordPercentiles(scenario, `${how}: signal -> synced again, ${clients} clients`, name, round.fromSignal, { goal: '<= 1.2x database ext, < 3000 ms', withMax: true });
          report.recordPercentiles(scenario, `${how}: new process listening -> synced again`, name, round.fromListening);
          report.record({ scenario, label: `${how}: signal -> new process listening`, unit: 'ms', higherIsBetter: false }, name, round.restart.listeningAt - round.restart.signalledAt - round.restart.whileDownMs);
          report.record({ scenario, label: `${how}: acknowledged updates the store lacked`, unit: 'updates', higherIsBetter: false, goal: name === 'durable' ? '0' : undefined }, name, round.lostAcknowledged);
          report.record({ scenario, label: `${how}: log rows the storm added`, unit: 'rows', higherIsBetter: false, goal: `<= clients with unacknowledged updates` }, name, round.rowsAdded);
          report.record({ scenario, label: `${how}: clients with unacknowledged updates at the close`, unit: 'clients', higherIsBetter: false }, name, round.clientsWithUnacknowledged);
          report.log(
            `  ${how}: synced again p50 ${round.fromSignal.p50} p99 ${round.fromSignal.p99} max ${round.fromSignal.max} ms after the signal ` +
              `(${round.fromListening.p99} ms p99 after listening; down ${round.restart.listeningAt - round.restart.signalledAt - round.restart.whileDownMs} ms); ` +
              `${round.acknowledged}/${round.keystrokes} keystrokes acknowledged, ${round.lostAcknowledged} of them missing from the store; ` +
              `rows added ${round.rowsAdded ?? 'n/a'} (clients with unacknowledged updates: ${round.clientsWithUnacknowledged})`,
          );
          if (name === 'durable' && round.lostAcknowledged > 0) report.log(`  FAILED: ${round.lostAcknowledged} acknowledged updates were not stored`);
          if (name === 'durable' && round.rowsAdded !== null && round.rowsAdded > round.clientsWithUnacknowledged) {
            report.log(`  FAILED: the storm added ${round.rowsAdded} rows, more than the ${round.clientsWithUnacknowledged} resends it could need`);
          }
        }
      } finally {
        await target.stop();
      }
    }
  } finally {
    await pool.end();
    await db.close();
  }
}
