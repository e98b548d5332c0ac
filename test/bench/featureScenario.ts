/**
 * `--only=feature`: a feature-length script (issue 22, item 4). The 120-scene, ~120-page script of
 * the interchange scenario is imported over HTTP (each scene seeded from it); the stock extension
 * gets each scene's resulting state as its stored document, and plain Hocuspocus, which stores
 * nothing, gets it from its clients (each reader's documents hold the content before they connect).
 * Then, on each server: one reader opens the whole continuous script (120 providers on one
 * socket) with nothing loaded; 10 writers type in 10 scenes; one reader after another opens the
 * whole script while they type, and stays; the server's heap with all of that loaded (against the
 * heap before, after a full collection); and `GET /api/scripts/:id/scenes` while they type.
 */
import pg from 'pg';
import * as Y from 'yjs';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { serializeFdx } from '../../src/interchange/fdx.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createUser } from '../helpers/fixtures.ts';
import { benchmarkScreenplay } from './interchangeScenario.ts';
import { sized, type Report, type TargetName } from './report.ts';
import { closeClients, paceKeystrokes, percentiles } from './scenarios.ts';
import { openScript, type ScriptReader } from './scriptReader.ts';
import { fullState, settleDatabase } from './storage.ts';
import { startComparison, startDurable, type Target } from './targets.ts';
import { Typist } from './workload.ts';

const SIZES = {
  smoke: { readers: 2, listings: 3 },
  quick: { readers: 5, listings: 5 },
  full: { readers: 20, listings: 11 },
};
const WRITERS = 10;
/** Keystrokes a second per writer. */
const WRITER_RATE = 5;
/** Stores on the debounce (database extension, 2 s) and unloads take a moment (as in memoryPerScene). */
const UNLOAD_WAIT_MS = 3500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function heldBytes(target: Target): Promise<number> {
  const { heapUsed, external } = await target.heap();
  return heapUsed + external;
}

/** Imports the script through this project's server; returns its scene ids in order and each scene's state. */
async function importScript(databaseUrl: string, sql: SqlExecutor, token: string, seed: number) {
  const server = await startDurable(databaseUrl);
  try {
    const res = await fetch(`${server.httpUrl}/api/scripts/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: serializeFdx(benchmarkScreenplay(seed)),
    });
    if (res.status !== 201) throw new Error(`import answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { scriptUUID: string; scenes: Array<{ sceneUUID: string }> };
    const log = new SceneLog(sql);
    const states = new Map<string, Uint8Array>();
    for (const { sceneUUID } of body.scenes) states.set(sceneUUID, fullState((await log.loadUpdates(sceneUUID)).updates));
    return { scriptId: body.scriptUUID, sceneIds: body.scenes.map((s) => s.sceneUUID), states };
  } finally {
    await server.stop();
  }
}

export async function featureScenario(report: Report): Promise<void> {
  const size = sized(report.size, SIZES);
  const db = await createTestDatabase('postgres');
  try {
    const userId = await createUser(db.prisma);
    const token = await tokenFor(userId, { ttlSeconds: 24 * 3600 });
    const script = await importScript(db.databaseUrl!, db.database.sql, token, report.seed);
    // One account per person: 30 people do not share one, and this server limits the documents a
    // user has open (MAX_DOCUMENTS_PER_USER, 2,000), which 17 readers of 120 scenes would pass.
    const tokenOf = async (role: 'editor' | 'viewer') => {
      const collaborator = await createUser(db.prisma);
      await db.prisma.scriptCollaborator.create({ data: { scriptId: script.scriptId, userId: collaborator, role } });
      return tokenFor(collaborator, { ttlSeconds: 24 * 3600 });
    };
    const writerTokens = await Promise.all(Array.from({ length: WRITERS }, () => tokenOf('editor')));
    const readerTokens = await Promise.all(Array.from({ length: size.readers }, () => tokenOf('viewer')));
    const pool = new pg.Pool({ connectionString: db.databaseUrl, max: 2 });
    await pool.query('CREATE TABLE IF NOT EXISTS bench_documents (name text PRIMARY KEY, data bytea NOT NULL)');
    for (const [sceneId, state] of script.states) await pool.query('INSERT INTO bench_documents (name, data) VALUES ($1, $2)', [sceneId, Buffer.from(state)]);
    await pool.end();
    const scenes = script.sceneIds.length;
    const stateBytes = [...script.states.values()].reduce((n, s) => n + s.byteLength, 0);
    report.log(`\na feature-length script: ${scenes} scenes (${(stateBytes / 1024).toFixed(0)} KB of Yjs state), ${WRITERS} writers, ${size.readers} readers of the whole script`);

    for (const name of ['floor', 'database', 'durable'] as const) {
      const target = name === 'durable' ? await startDurable(db.databaseUrl!) : await startComparison(name, name === 'database' ? db.databaseUrl : undefined);
      try {
        await settleDatabase(db.databaseUrl!);
        report.log(`\n${target.label}`);
        await measure(report, name, target, { ...script, token, writerTokens, readerTokens, listings: size.listings });
      } finally {
        await target.stop();
      }
    }
  } finally {
    await db.close();
  }
}

async function measure(
  report: Report,
  name: TargetName,
  target: Target,
  options: { scriptId: string; sceneIds: string[]; states: Map<string, Uint8Array>; token: string; writerTokens: string[]; readerTokens: string[]; listings: number },
): Promise<void> {
  const scenario = 'feature';
  const scenes = options.sceneIds.length;
  const prefill = name === 'floor' ? options.states : undefined;
  const first = openScript(target.wsUrl, options.sceneIds, options.token, { prefill });
  const cold = percentiles(await first.synced);
  first.destroy();
  await sleep(UNLOAD_WAIT_MS);
  const baseline = await heldBytes(target);

  const writers: TestClient[] = options.sceneIds.slice(0, WRITERS).map((sceneId, i) => {
    const document = new Y.Doc();
    if (prefill) Y.applyUpdate(document, prefill.get(sceneId)!);
    return connectClient(target.wsUrl, sceneId, { token: options.writerTokens[i]!, document });
  });
  const readers: ScriptReader[] = [];
  let stopTyping = () => {};
  try {
    await Promise.all(writers.map((w) => waitForSynced(w, 30_000)));
    const typists = writers.map((w, i) => new Typist(w.doc, report.seed + i));
    stopTyping = paceKeystrokes(WRITERS, WRITERS * WRITER_RATE, (i) => typists[i]!.keystroke());
    const wholeScript: number[] = [];
    for (const readerToken of options.readerTokens) {
      const reader = openScript(target.wsUrl, options.sceneIds, readerToken, { prefill });
      readers.push(reader);
      wholeScript.push(Math.max(...(await reader.synced)));
    }
    const loaded = await heldBytes(target);
    const open = percentiles(wholeScript);
    report.record({ scenario, label: `whole script (${scenes} scenes, one socket), nothing loaded: all synced`, unit: 'ms', higherIsBetter: false }, name, cold.max);
    report.record({ scenario, label: `whole script, nothing loaded: a scene synced (p50)`, unit: 'ms', higherIsBetter: false }, name, cold.p50);
    report.record({ scenario, label: `whole script opened while ${WRITERS} writers type: all synced (p50 of ${options.readerTokens.length} readers)`, unit: 'ms', higherIsBetter: false }, name, open.p50);
    report.record({ scenario, label: `whole script opened while ${WRITERS} writers type: all synced (slowest reader)`, unit: 'ms', higherIsBetter: false }, name, open.max);
    report.record({ scenario, label: `server heap: script loaded, ${WRITERS} writers, ${options.readerTokens.length} readers`, unit: 'MiB', higherIsBetter: false }, name, (loaded - baseline) / 2 ** 20);
    let listing = '';
    if (target.httpUrl) {
      const samples: number[] = [];
      for (let i = 0; i < options.listings; i += 1) {
        const started = performance.now();
        const res = await fetch(`${target.httpUrl}/api/scripts/${options.scriptId}/scenes`, { headers: { authorization: `Bearer ${options.token}` } });
        if (res.status !== 200) throw new Error(`GET scenes answered ${res.status}: ${await res.text()}`);
        await res.json();
        samples.push(performance.now() - started);
      }
      const list = percentiles(samples);
      report.record({ scenario, label: `GET /api/scripts/:id/scenes, ${scenes} scenes, while writers type (p50)`, unit: 'ms', higherIsBetter: false }, name, list.p50);
      listing = `; GET scenes p50 ${list.p50.toFixed(0)} ms`;
    }
    report.log(
      `  whole script with nothing loaded: ${cold.max.toFixed(0)} ms (scene p50 ${cold.p50.toFixed(0)} ms); while writers type: p50 ${open.p50.toFixed(0)} max ${open.max.toFixed(0)} ms; ` +
        `heap +${((loaded - baseline) / 2 ** 20).toFixed(1)} MiB${listing}`,
    );
  } finally {
    stopTyping();
    for (const reader of readers) reader.destroy();
    closeClients(writers);
  }
}
