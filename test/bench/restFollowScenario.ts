import type { SqlExecutor } from '../../src/db/sql.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { tokenFor } from '../helpers/auth.ts';
import { waitForAcked } from '../helpers/clients.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { closeClients, openClients, percentiles, type Percentiles } from './scenarios.ts';
import { populateScene, settleDatabase } from './storage.ts';
import { startDurable, type Target } from './targets.ts';
import { Typist } from './workload.ts';

const SCENES = 120;
/** Each scene's log before the round: a writer's earlier session. */
const UPDATES_PER_SCENE = 300;
/** Keystrokes each connected writer makes in a round, before the listing is read. */
const KEYSTROKES = 20;
/** Listing reads per round (the figure is their p50). */
const READS = 11;
/** The production defaults (`REST_COPY_DEBOUNCE_MS`, `REST_COPY_MAX_DEBOUNCE_MS`). */
const DEBOUNCE_MS = 2000;
const MAX_DEBOUNCE_MS = 10_000;

export interface RestFollowRound {
  /** `GET /api/scripts/:id/scenes` with the follower off: the current code path (live documents, replays). */
  off: Percentiles;
  /** The same read with the follower on, once every copy reached the head. */
  on: Percentiles;
  /** Where the scenes' content came from on the last read of each (`metadata.derived_from`, counted). */
  originsOff: Record<string, number>;
  originsOn: Record<string, number>;
  /** Polls (250 ms apart) until the follower had every copy at the log head. */
  pollsUntilCurrent: number;
}

export interface RestFollowFigures {
  rounds: RestFollowRound[];
  median: { off: Percentiles; on: Percentiles };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readListing(target: Target, scriptId: string, token: string): Promise<{ ms: number; origins: Record<string, number> }> {
  const started = performance.now();
  const res = await fetch(`${target.httpUrl}/api/scripts/${scriptId}/scenes`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET scenes answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { scenes: Array<{ metadata: { derived_from: string } }> };
  const ms = performance.now() - started;
  const origins: Record<string, number> = {};
  for (const scene of body.scenes) origins[scene.metadata.derived_from] = (origins[scene.metadata.derived_from] ?? 0) + 1;
  return { ms, origins };
}

/** How many of the scenes' REST copies stand at their log head. */
async function currentCopies(prisma: PrismaClient, sql: SqlExecutor, sceneIds: string[]): Promise<number> {
  const heads = await new SceneLog(sql).heads(sceneIds);
  const rows = await prisma.$queryRaw<Array<{ scene_id: string; snapshot_seq: bigint | null }>>`
    SELECT scene_id, snapshot_seq FROM scenes WHERE scene_id = ANY(${sceneIds}::uuid[])`;
  return rows.filter((row) => row.snapshot_seq !== null && heads.get(row.scene_id)?.lastSeq === BigInt(row.snapshot_seq)).length;
}

/**
 * One round on one server: a writer connected to each of the 120 scenes types, every keystroke is
 * acknowledged, the writers stay connected, and the script's listing is read. With the follower
 * on, the reads start once every copy is at the log head (polled, bounded by a count); with it off
 * they start after the same wait as the longest store could take (the max debounce), so both read
 * a quiet server.
 */
async function round(
  follow: boolean,
  options: { databaseUrl: string; prisma: PrismaClient; sql: SqlExecutor; scriptId: string; sceneIds: string[]; token: string; seed: number },
): Promise<{ listing: Percentiles; origins: Record<string, number>; polls: number }> {
  const target = await startDurable(options.databaseUrl, {
    REST_COPY_FOLLOW: follow ? 'true' : 'false',
    REST_COPY_DEBOUNCE_MS: String(DEBOUNCE_MS),
    REST_COPY_MAX_DEBOUNCE_MS: String(MAX_DEBOUNCE_MS),
  });
  try {
    await settleDatabase(options.databaseUrl);
    const writers = await openClients(target, options.sceneIds, 1, options.token);
    try {
      writers.forEach((writer, i) => {
        const typist = new Typist(writer.doc, options.seed + i);
        for (let k = 0; k < KEYSTROKES; k += 1) typist.keystroke();
      });
      await Promise.all(writers.map((writer) => waitForAcked(writer, 60_000)));
      let polls = 0;
      if (follow) {
        // Bounded: the max debounce plus the same again, in 250 ms polls.
        const limit = Math.ceil((2 * MAX_DEBOUNCE_MS) / 250);
        while ((await currentCopies(options.prisma, options.sql, options.sceneIds)) < options.sceneIds.length) {
          polls += 1;
          if (polls > limit) throw new Error(`the follower did not bring every copy to the head within ${limit} polls`);
          await sleep(250);
        }
      } else {
        await sleep(DEBOUNCE_MS + 500);
      }
      const samples: number[] = [];
      let origins: Record<string, number> = {};
      for (let i = 0; i < READS; i += 1) {
        const read = await readListing(target, options.scriptId, options.token);
        samples.push(read.ms);
        origins = read.origins;
      }
      return { listing: percentiles(samples), origins, polls };
    } finally {
      closeClients(writers);
    }
  } finally {
    await target.stop();
  }
}

function medianBy(values: Percentiles[]): Percentiles {
  return [...values].sort((a, b) => a.p50 - b.p50)[Math.floor(values.length / 2)]!;
}

/**
 * `--only=rest`: a 120-scene script just edited by connected writers, then its listing read
 * (`GET /api/scripts/:id/scenes`), with the REST copy follower off (the code path before it) and on,
 * alternating, `rounds` times each. The figure is the median round's p50.
 */
export async function restFollowScenario(options: { rounds: number; seed: number; log: (line: string) => void }): Promise<RestFollowFigures> {
  const db = await createTestDatabase('postgres');
  try {
    const sql = db.database.sql;
    const fixture = await createScript(db.prisma, { scenes: SCENES, title: 'Long script, just edited' });
    for (const [i, sceneId] of fixture.sceneIds.entries()) await populateScene(sql, sceneId, UPDATES_PER_SCENE, options.seed + 7000 + i);
    const token = await tokenFor(fixture.userId, { ttlSeconds: 24 * 3600 });
    const rounds: RestFollowRound[] = [];
    for (let r = 0; r < options.rounds; r += 1) {
      const common = { databaseUrl: db.databaseUrl!, prisma: db.prisma, sql, scriptId: fixture.scriptId, sceneIds: fixture.sceneIds, token };
      const off = await round(false, { ...common, seed: options.seed + 100_000 * (2 * r + 1) });
      const on = await round(true, { ...common, seed: options.seed + 100_000 * (2 * r + 2) });
      rounds.push({ off: off.listing, on: on.listing, originsOff: off.origins, originsOn: on.origins, pollsUntilCurrent: on.polls });
      options.log(
        `  rest round ${r + 1}: GET 120 just-edited scenes p50 ${off.listing.p50.toFixed(1)} ms follower off (${JSON.stringify(off.origins)}), ` +
          `${on.listing.p50.toFixed(1)} ms follower on (${JSON.stringify(on.origins)}; copies current after ${on.polls} polls of 250 ms)`,
      );
    }
    return { rounds, median: { off: medianBy(rounds.map((x) => x.off)), on: medianBy(rounds.map((x) => x.on)) } };
  } finally {
    await db.close();
  }
}
