import { prismaExecutor, type SqlExecutor } from '../db/sql.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { SceneNotFoundError } from '../errors.ts';
import type { StructRanges } from '../guards/updateValidation.ts';
import {
  clocksFromColumn,
  clocksToColumn,
  overlapsCommitted,
  splitAtSharedStructs,
  structsOf,
  withoutCommitted,
  type CommittedClocks,
} from './arbitration.ts';
import { LogChanges, type ChangeKind } from './changes.ts';
import { LogClear } from './clear.ts';
import { isEmptyUpdate } from './containment.ts';
import { LogFigures } from './figures.ts';
import { LogHistory } from './history.ts';
import { LogImport } from './import.ts';
import { LogLifecycle } from './lifecycle.ts';
import { unpackUpdates } from './packed.ts';
import { replayOnThisThread, type Replayer } from './replay.ts';
import { LogVersions } from './versions.ts';
import { STORED_UPDATE_COLUMNS, toBuffer, toSeq, toStoredUpdate, type LoadedRow, type Numeric, type StoredUpdate } from './rows.ts';

/** One update to append to a scene's log. */
export interface AppendEntry {
  sceneId: string;
  update: Uint8Array;
  /** `users.user_id` of the author; null for the server itself (seeding, repairs). */
  createdBy: string | null;
  /** How many appended updates `update` merges (group commit merges a writer's run); 1 when absent. */
  updateCount?: number;
  /** What made the change, for the change feed (`scene_changes`); `edit` (an editor's update) when absent. */
  kind?: ChangeKind;
  /**
   * The update's struct ranges, when the caller has read them already (the guards' `inspectUpdate`
   * of a client update); read from `update` when absent.
   */
  structs?: StructRanges;
}

/** Where an appended update landed. */
export interface AppendedVersion {
  versionId: string;
  sceneId: string;
  seq: bigint;
  createdAt: Date;
}

/**
 * An appended update the log held every struct of already (sent again, or first stored by another
 * instance) and that deleted nothing: nothing was stored, and its sender may be acknowledged.
 */
export class AlreadyInLog {
  constructor(
    readonly sceneId: string,
    /** The scene's head when it was checked: the update's content is at or below it. */
    readonly seq: bigint,
  ) {}
}

/** What became of an appended update that the log accepted. */
export type AppendOutcome = AppendedVersion | AlreadyInLog;

/** An entry on its way into the log, with its position in the caller's array. */
interface Candidate {
  index: number;
  entry: AppendEntry;
  sceneId: string;
  structs: StructRanges;
}

/** A scene's live log as a derivation elsewhere needs it (`SceneLog.loadPacked`). */
export interface PackedLog {
  /** The live updates in load order, packed (`unpackUpdates`). */
  packed: Uint8Array;
  rows: number;
  /** Updates the live rows stand for (a compacted row counts every update it merged). */
  updates: number;
  /** The newest live row (the highest seq; of two with one seq, the compacted one, as loads order them). */
  latest: { seq: bigint; versionId: string } | null;
  /** When the newest original was committed; a compacted row's time only when no original is live (it is when compaction ran). */
  lastEditAt: Date | null;
}

export interface LogCounts {
  /** Rows a load replays: the newest compacted row and every row not yet merged. */
  live: number;
  /** Updates the live rows stand for (a compacted row counts every update it merged). */
  updates: number;
  /** Every row still stored, including merged rows awaiting retention. */
  stored: number;
  latestSeq: bigint | null;
  firstAt: Date | null;
  lastAt: Date | null;
}

/** Where a scene's log stands (`SceneLog.heads`). */
export interface LogHead {
  /** The last sequence number handed out; null when nothing was ever appended. */
  lastSeq: bigint | null;
  /** At least one row is stored. */
  hasUpdates: boolean;
}

/** A scene's live updates as a load reads them (`SceneLog.loadUpdates`). */
export interface LoadedUpdates {
  updates: Uint8Array[];
  /** The updates as the database packed them (a 4-byte length before each). */
  packed: Uint8Array;
  latestSeq: bigint | null;
  /**
   * The head's seq when the scene's committed clocks are not recorded (a log older than them, or
   * one a quarantine changed): the loader records them from what it replayed. Null when recorded.
   */
  clocksUnrecordedAt: bigint | null;
}

const NO_ROWS: LogCounts = { live: 0, updates: 0, stored: 0, latestSeq: null, firstAt: null, lastAt: null };

/** A row of the append statement: a stored update, or a scene whose entries it left for `arbitrate`. */
interface AppendedRow {
  outcome: 'stored' | 'arbitrate';
  scene_id: string;
  version_id: string | null;
  seq: Numeric | null;
  created_at: Date | null;
}

/**
 * The owner of the scene log (`scene_versions`, `scene_log_heads`, `quarantined_updates`): every
 * statement that reads or writes them is in this folder, and this class is the way in. It holds
 * the per-scene operations (append, load, head, counts, quarantine); `history`, `figures` and
 * `clear` hold what history views, health and the operator tools read, bound to the same
 * database (or transaction).
 *
 * Sequence numbers come from `scene_log_heads`: the statement that inserts a batch first bumps each
 * scene's head row, and that row lock is held until commit. A second batch for the same scene (from
 * this or another instance) therefore waits and reads the new head, so a scene's `seq` order is its
 * commit order: whoever has read seq N has seen every row below N. Compaction and snapshots rely on
 * that to name exactly what they covered.
 *
 * Lock order: code that locks a scene's `scenes` row as well (seeding, clear-yjs, a snapshot that
 * names a row) takes it before the head row or a log row, so it cannot deadlock with another such
 * caller. Appends never lock the scene row (their foreign-key checks take KEY SHARE, which a FOR NO
 * KEY UPDATE lock does not block).
 */
export class SceneLog {
  /** Older states of a scene: history views and the base of a PATCH made against an older read. */
  readonly history: LogHistory;
  /** Figures across all scenes: health, the snapshot job's work list, the divergence sweep. */
  readonly figures: LogFigures;
  /** Exporting and deleting whole logs (clear-yjs); meant for `withTransaction` under the head locks. */
  readonly clear: LogClear;
  /** The audit listings: a scene's rows newest first, and its editing sessions (src/log/versions.ts). */
  readonly versions: LogVersions;
  /** The change rows every append writes: the change feed's and the webhooks' reads (src/log/changes.ts). */
  readonly changes: LogChanges;
  /** The facts each scene's lifecycle state is decided from, and their census (src/log/lifecycle.ts). */
  readonly lifecycle: LogLifecycle;
  /** Writing a scene's exported log into this database, seqs kept (import-scene; src/log/import.ts). */
  readonly imports: LogImport;

  /** Where history replays run (a worker pool given by the composition root; default: this thread). */
  readonly replayer: Replayer;

  /** Bound to an open transaction (`withTransaction`): what needs one runs in it instead of opening one. */
  private readonly inTransaction: boolean;

  constructor(
    private readonly sql: SqlExecutor,
    options: { replayer?: Replayer; inTransaction?: boolean } = {},
  ) {
    this.replayer = options.replayer ?? replayOnThisThread;
    this.inTransaction = options.inTransaction ?? false;
    this.history = new LogHistory(sql, this, this.replayer);
    this.figures = new LogFigures(sql);
    this.clear = new LogClear(sql);
    this.versions = new LogVersions(sql);
    this.changes = new LogChanges(sql);
    this.lifecycle = new LogLifecycle(sql);
    this.imports = new LogImport(sql);
  }

  /**
   * The same store bound to an open interactive transaction, so a caller can append under locks
   * it took in that transaction (seeding checks "the log is still empty" and appends the seed
   * atomically). On PGlite every statement of the transaction must go through `tx`: the single
   * connection is held by the transaction, and a query on the outer client would wait for it.
   * This is the one bridge from a Prisma transaction to the log's statements.
   */
  withTransaction(tx: Prisma.TransactionClient | SqlExecutor): SceneLog {
    return new SceneLog('query' in tx ? tx : prismaExecutor(tx), { replayer: this.replayer, inTransaction: true });
  }

  /**
   * Appends updates for one or many scenes in one statement (one round trip, one commit). Entries
   * of the same scene get consecutive sequence numbers in array order. Entries whose scene no
   * longer exists are not stored and come back as `SceneNotFoundError`; everything else in the
   * batch still commits.
   *
   * Nothing is stored twice (`arbitration.ts`): an entry the log holds every struct of comes back
   * as `AlreadyInLog`, and one it holds part of is stored without that part. The statement decides
   * that under each scene's head lock, against the clocks committed by every instance; only a
   * scene where it finds such an entry costs a second round, in a transaction (`arbitrate`).
   */
  async append(entries: readonly AppendEntry[]): Promise<Array<AppendOutcome | SceneNotFoundError>> {
    const results = new Array<AppendOutcome | SceneNotFoundError>(entries.length);
    let pending: Candidate[] = entries.map((entry, index) => ({
      index,
      entry,
      sceneId: entry.sceneId,
      structs: entry.structs ?? structsOf(entry.update),
    }));
    while (pending.length > 0) {
      const { now, later } = splitAtSharedStructs(pending);
      const contested = await this.insert(this.sql, now, results);
      if (contested.length > 0) await this.arbitrate(contested, results);
      pending = later;
    }
    return results;
  }

  /**
   * Runs the append statement for `candidates` and records what it stored in `results`. Returns
   * the candidates of the scenes it left alone: those holding structs the log has, and those
   * whose head another instance created while this statement ran.
   */
  private async insert(sql: SqlExecutor, candidates: readonly Candidate[], results: Array<AppendOutcome | SceneNotFoundError>): Promise<Candidate[]> {
    if (candidates.length === 0) return [];
    const ords: number[] = [];
    const clients: number[] = [];
    const froms: number[] = [];
    const tos: number[] = [];
    candidates.forEach((candidate, i) => {
      for (const [client, ranges] of candidate.structs) {
        for (const [from, to] of ranges) {
          ords.push(i + 1);
          clients.push(client);
          froms.push(from);
          tos.push(to);
        }
      }
    });
    const rows = await sql.query<AppendedRow>('scene_log_append', APPEND_SQL, [
      candidates.map((c) => c.sceneId),
      candidates.map((c) => toBuffer(c.entry.update)),
      candidates.map((c) => c.entry.createdBy),
      candidates.map((c) => c.entry.updateCount ?? 1),
      ords,
      clients,
      froms,
      tos,
      candidates.map((c) => c.entry.kind ?? 'edit'),
    ]);

    // Rows come back in no promised order; within a scene, seq order is array order.
    const byScene = new Map<string, AppendedRow[]>();
    const contestedScenes = new Set<string>();
    for (const row of rows) {
      if (row.outcome === 'arbitrate') {
        contestedScenes.add(row.scene_id);
        continue;
      }
      const list = byScene.get(row.scene_id) ?? [];
      list.push(row);
      byScene.set(row.scene_id, list);
    }
    for (const list of byScene.values()) list.sort((a, b) => (BigInt(a.seq!) < BigInt(b.seq!) ? -1 : 1));
    const next = new Map<string, number>();
    const contested: Candidate[] = [];
    for (const candidate of candidates) {
      const { sceneId } = candidate;
      if (contestedScenes.has(sceneId)) {
        contested.push(candidate);
        continue;
      }
      const index = next.get(sceneId) ?? 0;
      const row = byScene.get(sceneId)?.[index];
      if (!row) {
        results[candidate.index] = new SceneNotFoundError(sceneId, '(deleted while it was open?); the update was not stored');
        continue;
      }
      next.set(sceneId, index + 1);
      results[candidate.index] = { versionId: row.version_id!, sceneId, seq: BigInt(row.seq!), createdAt: row.created_at! };
    }
    return contested;
  }

  /**
   * The slow path, for scenes whose entries hold structs the log has: locks their heads (creating
   * a missing one), cuts each such entry to what the log lacks against the clocks read under the
   * lock, and appends the rest in the same transaction, where no other instance can move the
   * clocks. An entry left with no struct and no deletion is `AlreadyInLog`.
   */
  private async arbitrate(candidates: readonly Candidate[], results: Array<AppendOutcome | SceneNotFoundError>): Promise<void> {
    await this.inOneTransaction(async (sql) => {
      const sceneIds = [...new Set(candidates.map((c) => c.sceneId))].sort();
      const heads = new Map<string, { lastSeq: bigint; clocks: CommittedClocks | null }>();
      const locked = await sql.query<{ scene_id: string; last_seq: Numeric; committed_clocks: unknown }>('scene_log_lock_heads', LOCK_HEADS_SQL, [
        sceneIds,
      ]);
      for (const row of locked) heads.set(row.scene_id, { lastSeq: BigInt(row.last_seq), clocks: clocksFromColumn(row.committed_clocks) });

      const kept: Candidate[] = [];
      for (const candidate of candidates) {
        const head = heads.get(candidate.sceneId);
        if (!head) {
          results[candidate.index] = new SceneNotFoundError(candidate.sceneId, '(deleted while it was open?); the update was not stored');
          continue;
        }
        if (!head.clocks || !overlapsCommitted(candidate.structs, head.clocks)) {
          kept.push(candidate);
          continue;
        }
        const update = withoutCommitted(candidate.entry.update, head.clocks);
        if (isEmptyUpdate(update)) {
          results[candidate.index] = new AlreadyInLog(candidate.sceneId, head.lastSeq);
          continue;
        }
        kept.push({ ...candidate, entry: { ...candidate.entry, update }, structs: structsOf(update) });
      }
      const contested = await this.insert(sql, kept, results);
      // Under the locks the clocks cannot have moved since they were read: nothing is contested.
      if (contested.length > 0) throw new Error(`append arbitration: ${contested.length} entries still overlap the log under its head locks`);
    });
  }

  private inOneTransaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction ? fn(this.sql) : this.sql.transaction(fn);
  }

  /**
   * Locks the scene's head row until the surrounding transaction ends and returns the last
   * sequence number handed out (0 for a scene never appended to; the row is created then).
   * While the lock is held no append to the scene can commit, so "the log is empty" stays true
   * until the caller's own append. Only meaningful on a transaction's client (`withTransaction`).
   */
  async lockHead(sceneId: string): Promise<bigint> {
    const [row] = await this.sql.query<{ last_seq: Numeric }>(
      'scene_log_lock_head',
      `INSERT INTO scene_log_heads AS h (scene_id, last_seq) VALUES ($1::uuid, 0)
       ON CONFLICT (scene_id) DO UPDATE SET last_seq = h.last_seq
       RETURNING h.last_seq`,
      [sceneId],
    );
    return BigInt(row!.last_seq);
  }

  /**
   * The highest sequence number ever handed out for the scene, or null when nothing was appended.
   *
   * Read it BEFORE the rows: the head is bumped in the statement that inserts, so once it says N
   * every row up to N is committed, and a later read of the log sees all of them that still exist.
   * A derivation can then claim `max(head, newest row)` even when the newest row was quarantined,
   * so a scene whose last update is in quarantine does not look permanently behind its snapshot.
   */
  async head(sceneId: string): Promise<bigint | null> {
    const [row] = await this.sql.query<{ last_seq: Numeric }>(
      'scene_log_head',
      'SELECT last_seq FROM scene_log_heads WHERE scene_id = $1::uuid',
      [sceneId],
    );
    return toSeq(row?.last_seq);
  }

  /**
   * The heads of many scenes in one statement (a script's scene list), with whether each has a
   * stored row: a head outlives its rows (clear-yjs keeps it), so the two are told apart. Every
   * scene asked for is in the result.
   */
  async heads(sceneIds: readonly string[]): Promise<Map<string, LogHead>> {
    const heads = new Map<string, LogHead>(sceneIds.map((sceneId) => [sceneId, { lastSeq: null, hasUpdates: false }]));
    if (sceneIds.length === 0) return heads;
    const rows = await this.sql.query<{ scene_id: string; last_seq: Numeric | null; has_updates: boolean }>(
      'scene_log_heads_of',
      `SELECT i.scene_id, h.last_seq,
              EXISTS (SELECT 1 FROM scene_versions v WHERE v.scene_id = i.scene_id) AS has_updates
       FROM unnest($1::uuid[]) AS i (scene_id)
       LEFT JOIN scene_log_heads h ON h.scene_id = i.scene_id`,
      [sceneIds],
    );
    for (const row of rows) heads.set(row.scene_id, { lastSeq: toSeq(row.last_seq), hasUpdates: row.has_updates });
    return heads;
  }

  /**
   * The rows a load replays, in sequence order: the newest compacted row and every row not merged
   * into it. Compaction marks exactly the rows it merged (`compacted_by`), so "not marked" is the
   * live set and one index range scan reads it.
   */
  async load(sceneId: string): Promise<StoredUpdate[]> {
    const rows = await this.sql.query<LoadedRow>(
      'scene_log_load',
      `SELECT ${STORED_UPDATE_COLUMNS}
       FROM scene_versions
       WHERE scene_id = $1::uuid AND compacted_by IS NULL
       ORDER BY seq, is_compacted DESC`,
      [sceneId],
    );
    return rows.map(toStoredUpdate);
  }

  /**
   * The live updates of a scene in sequence order, without their row details: the load hot path.
   * The database packs them into one value (a 4-byte length before each update), which for
   * 10,000 typing updates reads several times faster than 10,000 rows; `packed` is that value.
   * Rows that must be told apart (a corrupt one to quarantine) come from `load`.
   */
  async loadUpdates(sceneId: string): Promise<LoadedUpdates> {
    const [row] = await this.sql.query<{ packed: Uint8Array | null; latest_seq: Numeric | null; unrecorded_at: Numeric | null }>(
      'scene_log_load_packed',
      `SELECT string_agg(int4send(length(yjs_update)) || yjs_update, ''::bytea ORDER BY seq, is_compacted DESC) AS packed,
              max(seq) AS latest_seq,
              (SELECT last_seq FROM scene_log_heads WHERE scene_id = $1::uuid AND committed_clocks IS NULL) AS unrecorded_at
       FROM scene_versions
       WHERE scene_id = $1::uuid AND compacted_by IS NULL`,
      [sceneId],
    );
    const packed = row?.packed ?? new Uint8Array(0);
    return {
      updates: unpackUpdates(packed),
      packed,
      latestSeq: toSeq(row?.latest_seq),
      clocksUnrecordedAt: toSeq(row?.unrecorded_at),
    };
  }

  /**
   * Records a scene's committed clocks from a replay of its log, for a log whose clocks are not
   * recorded (`loadUpdates` says `clocksUnrecordedAt`): the state vector of the document the rows
   * read at that head built. Only while the head is still there, so no append went unrecorded in
   * between; false when it moved on (a later load tries again) or the clocks are recorded already.
   * The document's state vector counts only what it integrated, never a struct the log lacks.
   */
  async recordCommittedClocks(sceneId: string, clocks: CommittedClocks, atSeq: bigint): Promise<boolean> {
    const rows = await this.sql.query<{ scene_id: string }>(
      'scene_log_record_clocks',
      `UPDATE scene_log_heads SET committed_clocks = $2::jsonb
       WHERE scene_id = $1::uuid AND last_seq = $3::bigint AND committed_clocks IS NULL
       RETURNING scene_id`,
      [sceneId, clocksToColumn(clocks), atSeq.toString()],
    );
    return rows.length > 0;
  }

  /**
   * The live log as `load` reads it, but packed into one value with the few row facts a
   * derivation needs: reading 100,000 updates this way costs the event loop one buffer instead of
   * 100,000 parsed rows, and the buffer goes to a worker thread as it is (src/workers).
   */
  async loadPacked(sceneId: string): Promise<PackedLog> {
    return this.packed('scene_log_load_packed_facts', '', [sceneId]);
  }

  /**
   * `loadPacked`, of the live rows after `seq` only: what a state known to hold every row up to
   * `seq` lacks. A compacted row that merged rows on both sides of `seq` is included (it has the
   * seq of the newest it merged), and applying what a state already holds changes nothing.
   */
  async loadPackedAfter(sceneId: string, seq: bigint): Promise<PackedLog> {
    return this.packed('scene_log_load_packed_after', 'AND seq > $2::bigint', [sceneId, seq.toString()]);
  }

  private async packed(name: string, condition: string, values: readonly unknown[]): Promise<PackedLog> {
    const [row] = await this.sql.query<{
      packed: Uint8Array | null;
      rows: Numeric;
      updates: Numeric | null;
      latest_seq: Numeric | null;
      latest_version_id: string | null;
      last_edit_at: Date | null;
    }>(
      name,
      `SELECT string_agg(int4send(length(yjs_update)) || yjs_update, ''::bytea ORDER BY seq, is_compacted DESC) AS packed,
              count(*) AS rows,
              sum(compacted_count) AS updates,
              max(seq) AS latest_seq,
              (SELECT version_id FROM scene_versions n
               WHERE n.scene_id = $1::uuid AND n.compacted_by IS NULL
               ORDER BY n.seq DESC, n.is_compacted DESC LIMIT 1) AS latest_version_id,
              COALESCE(max(created_at) FILTER (WHERE NOT is_compacted), max(created_at)) AS last_edit_at
       FROM scene_versions
       WHERE scene_id = $1::uuid AND compacted_by IS NULL ${condition}`,
      values,
    );
    const latestSeq = toSeq(row?.latest_seq);
    return {
      packed: row?.packed ?? new Uint8Array(0),
      rows: Number(row?.rows ?? 0),
      updates: Number(row?.updates ?? 0),
      latest: latestSeq === null || !row?.latest_version_id ? null : { seq: latestSeq, versionId: row.latest_version_id },
      lastEditAt: row?.last_edit_at ?? null,
    };
  }

  /**
   * The newest `limit` live rows, newest first: what a document loaded on this instance is checked
   * against (a document can lack only the newest rows, so they are the ones that tell).
   */
  async loadNewest(sceneId: string, limit: number): Promise<StoredUpdate[]> {
    const rows = await this.sql.query<LoadedRow>(
      'scene_log_load_newest',
      `SELECT ${STORED_UPDATE_COLUMNS}
       FROM scene_versions
       WHERE scene_id = $1::uuid AND compacted_by IS NULL
       ORDER BY seq DESC, is_compacted
       LIMIT $2`,
      [sceneId, limit],
    );
    return rows.map(toStoredUpdate);
  }

  async counts(sceneId: string): Promise<LogCounts> {
    return (await this.countsOf([sceneId])).get(sceneId) ?? { ...NO_ROWS };
  }

  /**
   * `counts` of many scenes in one statement (diagnose, the clear-yjs plan). Scenes without a
   * stored row are left out.
   */
  async countsOf(sceneIds: readonly string[]): Promise<Map<string, LogCounts>> {
    const counts = new Map<string, LogCounts>();
    if (sceneIds.length === 0) return counts;
    type Row = { scene_id: string; live: Numeric; updates: Numeric | null; stored: Numeric; latest_seq: Numeric | null; first_at: Date; last_at: Date };
    const rows = await this.sql.query<Row>(
      'scene_log_counts',
      `SELECT scene_id,
              count(*) FILTER (WHERE compacted_by IS NULL) AS live,
              sum(compacted_count) FILTER (WHERE compacted_by IS NULL) AS updates,
              count(*) AS stored,
              max(seq) AS latest_seq,
              min(created_at) AS first_at,
              max(created_at) AS last_at
       FROM scene_versions WHERE scene_id = ANY($1::uuid[])
       GROUP BY scene_id`,
      [sceneIds],
    );
    for (const row of rows) {
      counts.set(row.scene_id, {
        live: Number(row.live),
        updates: Number(row.updates ?? 0),
        stored: Number(row.stored),
        latestSeq: toSeq(row.latest_seq),
        firstAt: row.first_at,
        lastAt: row.last_at,
      });
    }
    return counts;
  }

  /** True when the scene has at least one stored update. */
  async hasUpdates(sceneId: string): Promise<boolean> {
    const rows = await this.sql.query<{ one: number }>(
      'scene_log_has_updates',
      'SELECT 1 AS one FROM scene_versions WHERE scene_id = $1::uuid LIMIT 1',
      [sceneId],
    );
    return rows.length > 0;
  }

  /** When each of these rows was written; rows no longer stored (retention, clear-yjs) are left out. */
  async createdAt(versionIds: readonly string[]): Promise<Map<string, Date>> {
    const times = new Map<string, Date>();
    if (versionIds.length === 0) return times;
    const rows = await this.sql.query<{ version_id: string; created_at: Date }>(
      'scene_log_created_at',
      'SELECT version_id, created_at FROM scene_versions WHERE version_id = ANY($1::uuid[])',
      [versionIds],
    );
    for (const row of rows) times.set(row.version_id, row.created_at);
    return times;
  }

  /**
   * Keeps the row from being deleted until the surrounding transaction ends (FOR KEY SHARE, the
   * lock a foreign-key check takes) and says whether it still exists: for a caller about to store
   * a reference to it (a snapshot names the newest row it read), which retention or clear-yjs may
   * have deleted meanwhile. Only meaningful on a transaction's client (`withTransaction`).
   */
  async holdRow(versionId: string): Promise<boolean> {
    const rows = await this.sql.query<{ version_id: string }>(
      'scene_log_hold_row',
      'SELECT version_id FROM scene_versions WHERE version_id = $1::uuid FOR KEY SHARE',
      [versionId],
    );
    return rows.length > 0;
  }

  /**
   * Moves a row that cannot be decoded out of the log into `quarantined_updates`, in one
   * statement, so loads stop tripping on it while nothing is lost. When the row is a compacted
   * row, the rows it merged that retention has not deleted yet become live again. Returns false
   * when the row is already gone (another instance quarantined it first).
   *
   * The scene's committed clocks are forgotten with it: they may count structs only that row held,
   * which an editor that still has them must be able to store again. The next load records them.
   */
  async quarantine(sceneId: string, versionId: string, reason: string): Promise<boolean> {
    const moved = await this.sql.query<{ version_id: string }>(
      'scene_log_quarantine',
      `WITH restored AS (
         UPDATE scene_versions SET compacted_by = NULL
         WHERE compacted_by = $2::uuid AND scene_id = $1::uuid
       ),
       moved AS (
         DELETE FROM scene_versions
         WHERE version_id = $2::uuid AND scene_id = $1::uuid
         RETURNING version_id, scene_id, seq, yjs_update, is_compacted, created_at, created_by
       ),
       forgotten AS (
         UPDATE scene_log_heads SET committed_clocks = NULL
         WHERE scene_id = $1::uuid AND EXISTS (SELECT 1 FROM moved)
       )
       INSERT INTO quarantined_updates (scene_id, version_id, seq, yjs_update, is_compacted, created_at, created_by, reason)
       SELECT scene_id, version_id, seq, yjs_update, is_compacted, created_at, created_by, $3 FROM moved
       RETURNING version_id`,
      [sceneId, versionId, reason],
    );
    return moved.length > 0;
  }
}

/**
 * Appends a batch for any number of scenes. The input arrives as parallel arrays, so the statement
 * text is the same for every batch size and stays prepared: the entries ($1-$4), and the struct
 * ranges of each ($5 the entry's position from 1, $6 the Yjs client, $7-$8 its clocks [from, to)).
 *
 * The head rows are locked first, in scene order, so two batches touching the same scenes lock them
 * in the same order and cannot deadlock. `FOR NO KEY UPDATE` returns the newest version of a head
 * even when another instance committed it after this statement began (a plain read would see the
 * statement's snapshot): the committed clocks it holds are what every instance stored.
 *
 * A scene is appended to when none of its entries has a struct below the committed clock of its
 * client; its head's clocks then advance over the ranges that continue them. A scene where an entry
 * has one (`overlapping`), or whose missing head another instance created meanwhile (the insert of
 * `created` did nothing), stores nothing here and comes back as `arbitrate`. A head whose clocks are
 * NULL (not recorded yet) is appended to without a check, as before the clocks existed.
 *
 * Authors unknown to `users` are stored as NULL rather than failing the whole batch on the foreign
 * key; rows whose scene is gone are left out (the caller reports them).
 *
 * Each scene appended to gets one `scene_changes` row ($9 the entries' kinds), in this statement,
 * so the change feed can never disagree with the log: its seq is the new head, its author the
 * newest entry's, its kinds those of the scene's entries.
 */
const APPEND_SQL = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::uuid[], $4::int[], $9::text[]) WITH ORDINALITY AS t (scene_id, yjs_update, created_by, update_count, kind, ord)
  ),
  known AS (
    SELECT i.ord, i.scene_id, s.script_id, i.yjs_update, u.user_id AS created_by, i.update_count, i.kind
    FROM input i
    JOIN scenes s ON s.scene_id = i.scene_id
    LEFT JOIN users u ON u.user_id = i.created_by
  ),
  locked AS MATERIALIZED (
    SELECT h.scene_id, h.committed_clocks
    FROM scene_log_heads h
    WHERE h.scene_id IN (SELECT scene_id FROM known)
    ORDER BY h.scene_id
    FOR NO KEY UPDATE
  ),
  state AS (
    SELECT b.scene_id, b.n, l.scene_id IS NOT NULL AS has_head,
           CASE WHEN l.scene_id IS NULL THEN '{}'::jsonb ELSE l.committed_clocks END AS clocks
    FROM (SELECT scene_id, count(*)::bigint AS n FROM known GROUP BY scene_id) b
    LEFT JOIN locked l ON l.scene_id = b.scene_id
  ),
  ranges AS (
    SELECT st.scene_id, r.client, r.clock_from, r.clock_to,
           COALESCE((st.clocks ->> r.client::text)::bigint, 0) AS committed
    FROM unnest($5::int[], $6::bigint[], $7::bigint[], $8::bigint[]) AS r (ord, client, clock_from, clock_to)
    JOIN known k ON k.ord = r.ord
    JOIN state st ON st.scene_id = k.scene_id
    WHERE st.clocks IS NOT NULL
  ),
  overlapping AS (
    SELECT DISTINCT scene_id FROM ranges WHERE clock_from < committed
  ),
  chained AS (
    SELECT scene_id, client, committed, clock_to,
           bool_and(clock_from = previous_to) OVER (PARTITION BY scene_id, client ORDER BY clock_from ROWS UNBOUNDED PRECEDING) AS continues
    FROM (
      SELECT ranges.*, COALESCE(lag(clock_to) OVER (PARTITION BY scene_id, client ORDER BY clock_from), committed) AS previous_to
      FROM ranges
    ) ordered
  ),
  advanced AS (
    SELECT scene_id, jsonb_object_agg(client::text, clock) AS clocks
    FROM (
      SELECT scene_id, client, max(clock_to) AS clock, max(committed) AS committed
      FROM chained WHERE continues GROUP BY scene_id, client
    ) per_client
    WHERE clock > committed
    GROUP BY scene_id
  ),
  clean AS (
    SELECT st.scene_id, st.n, st.has_head, a.clocks AS advanced
    FROM state st LEFT JOIN advanced a ON a.scene_id = st.scene_id
    WHERE st.scene_id NOT IN (SELECT scene_id FROM overlapping)
  ),
  bumped AS (
    UPDATE scene_log_heads h
    SET last_seq = h.last_seq + c.n,
        committed_clocks = CASE WHEN c.advanced IS NULL THEN h.committed_clocks ELSE h.committed_clocks || c.advanced END
    FROM clean c
    WHERE h.scene_id = c.scene_id AND c.has_head
    RETURNING h.scene_id, h.last_seq
  ),
  created AS (
    INSERT INTO scene_log_heads AS h (scene_id, last_seq, committed_clocks)
    SELECT c.scene_id, c.n, COALESCE(c.advanced, '{}'::jsonb) FROM clean c WHERE NOT c.has_head ORDER BY c.scene_id
    ON CONFLICT (scene_id) DO NOTHING
    RETURNING h.scene_id, h.last_seq
  ),
  heads AS (
    SELECT scene_id, last_seq FROM bumped UNION ALL SELECT scene_id, last_seq FROM created
  ),
  stored AS (
    INSERT INTO scene_versions (scene_id, seq, yjs_update, created_by, compacted_count)
    SELECT k.scene_id,
           heads.last_seq - st.n + row_number() OVER (PARTITION BY k.scene_id ORDER BY k.ord),
           k.yjs_update,
           k.created_by,
           k.update_count
    FROM known k
    JOIN state st ON st.scene_id = k.scene_id
    JOIN heads ON heads.scene_id = k.scene_id
    RETURNING version_id, scene_id, seq, created_at
  ),
  newest AS (
    SELECT DISTINCT ON (scene_id) scene_id, script_id, created_by FROM known ORDER BY scene_id, ord DESC
  ),
  batch_kinds AS (
    SELECT scene_id, array_agg(DISTINCT kind ORDER BY kind) AS kinds FROM known GROUP BY scene_id
  ),
  changed AS (
    INSERT INTO scene_changes (scene_id, script_id, seq, kinds, created_by)
    SELECT heads.scene_id, n.script_id, heads.last_seq, b.kinds, n.created_by
    FROM heads
    JOIN newest n ON n.scene_id = heads.scene_id
    JOIN batch_kinds b ON b.scene_id = heads.scene_id
  )
  SELECT 'stored' AS outcome, scene_id, version_id, seq, created_at FROM stored
  UNION ALL
  SELECT 'arbitrate', st.scene_id, NULL, NULL, NULL FROM state st WHERE st.scene_id NOT IN (SELECT scene_id FROM heads)`;

/**
 * Locks the heads of scenes (creating those that are missing, with the empty log's clocks) in scene
 * order and returns them as they are now: the slow path of an append reads the clocks it cuts
 * entries against here, and holds the locks until it has appended. Scenes that are gone are left out.
 */
const LOCK_HEADS_SQL = `
  INSERT INTO scene_log_heads AS h (scene_id, last_seq)
  SELECT s.scene_id, 0 FROM scenes s WHERE s.scene_id = ANY($1::uuid[]) ORDER BY s.scene_id
  ON CONFLICT (scene_id) DO UPDATE SET last_seq = h.last_seq
  RETURNING h.scene_id, h.last_seq, h.committed_clocks`;
