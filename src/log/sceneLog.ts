import { prismaExecutor, type SqlExecutor } from '../db/sql.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { SceneNotFoundError } from '../errors.ts';
import { LogClear } from './clear.ts';
import { LogFigures } from './figures.ts';
import { LogHistory } from './history.ts';
import { STORED_UPDATE_COLUMNS, toBuffer, toSeq, toStoredUpdate, type LoadedRow, type Numeric, type StoredUpdate } from './rows.ts';

/** One update to append to a scene's log. */
export interface AppendEntry {
  sceneId: string;
  update: Uint8Array;
  /** `users.user_id` of the author; null for the server itself (seeding, repairs). */
  createdBy: string | null;
  /** How many appended updates `update` merges (group commit merges a writer's run); 1 when absent. */
  updateCount?: number;
}

/** Where an appended update landed. */
export interface AppendedVersion {
  versionId: string;
  sceneId: string;
  seq: bigint;
  createdAt: Date;
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

const NO_ROWS: LogCounts = { live: 0, updates: 0, stored: 0, latestSeq: null, firstAt: null, lastAt: null };

interface AppendedRow {
  version_id: string;
  scene_id: string;
  seq: Numeric;
  created_at: Date;
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

  constructor(private readonly sql: SqlExecutor) {
    this.history = new LogHistory(sql, this);
    this.figures = new LogFigures(sql);
    this.clear = new LogClear(sql);
  }

  /**
   * The same store bound to an open interactive transaction, so a caller can append under locks
   * it took in that transaction (seeding checks "the log is still empty" and appends the seed
   * atomically). On PGlite every statement of the transaction must go through `tx`: the single
   * connection is held by the transaction, and a query on the outer client would wait for it.
   * This is the one bridge from a Prisma transaction to the log's statements.
   */
  withTransaction(tx: Prisma.TransactionClient | SqlExecutor): SceneLog {
    return new SceneLog('query' in tx ? tx : prismaExecutor(tx));
  }

  /**
   * Appends updates for one or many scenes in one statement (one round trip, one commit). Entries
   * of the same scene get consecutive sequence numbers in array order. Entries whose scene no
   * longer exists are not stored and come back as `SceneNotFoundError`; everything else in the
   * batch still commits.
   */
  async append(entries: readonly AppendEntry[]): Promise<Array<AppendedVersion | SceneNotFoundError>> {
    if (entries.length === 0) return [];
    const rows = await this.sql.query<AppendedRow>('scene_log_append', APPEND_SQL, [
      entries.map((e) => e.sceneId),
      entries.map((e) => toBuffer(e.update)),
      entries.map((e) => e.createdBy),
      entries.map((e) => e.updateCount ?? 1),
    ]);

    // Rows come back in no promised order; within a scene, seq order is array order.
    const byScene = new Map<string, AppendedRow[]>();
    for (const row of rows) {
      const list = byScene.get(row.scene_id) ?? [];
      list.push(row);
      byScene.set(row.scene_id, list);
    }
    for (const list of byScene.values()) list.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    const next = new Map<string, number>();
    return entries.map((entry) => {
      const list = byScene.get(entry.sceneId);
      const index = next.get(entry.sceneId) ?? 0;
      const row = list?.[index];
      if (!row) return new SceneNotFoundError(entry.sceneId, '(deleted while it was open?); the update was not stored');
      next.set(entry.sceneId, index + 1);
      return { versionId: row.version_id, sceneId: row.scene_id, seq: BigInt(row.seq), createdAt: row.created_at };
    });
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
  async loadUpdates(sceneId: string): Promise<{ updates: Uint8Array[]; packed: Uint8Array; latestSeq: bigint | null }> {
    const [row] = await this.sql.query<{ packed: Uint8Array | null; latest_seq: Numeric | null }>(
      'scene_log_load_packed',
      `SELECT string_agg(int4send(length(yjs_update)) || yjs_update, ''::bytea ORDER BY seq, is_compacted DESC) AS packed,
              max(seq) AS latest_seq
       FROM scene_versions
       WHERE scene_id = $1::uuid AND compacted_by IS NULL`,
      [sceneId],
    );
    const packed = row?.packed ?? new Uint8Array(0);
    return {
      updates: unpackUpdates(packed),
      packed,
      latestSeq: toSeq(row?.latest_seq),
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
 * Appends a batch for any number of scenes. The input arrives as four parallel arrays, so the
 * statement text is the same for every batch size and stays prepared. The head rows are bumped in
 * scene order so two batches touching the same scenes lock them in the same order and cannot
 * deadlock; authors unknown to `users` are stored as NULL rather than failing the whole batch on
 * the foreign key; rows whose scene is gone are left out (the caller reports them).
 */
const APPEND_SQL = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::uuid[], $4::int[]) WITH ORDINALITY AS t (scene_id, yjs_update, created_by, update_count, ord)
  ),
  known AS (
    SELECT i.ord, i.scene_id, i.yjs_update, u.user_id AS created_by, i.update_count
    FROM input i
    JOIN scenes s ON s.scene_id = i.scene_id
    LEFT JOIN users u ON u.user_id = i.created_by
  ),
  counts AS (SELECT scene_id, count(*)::bigint AS n FROM known GROUP BY scene_id),
  heads AS (
    INSERT INTO scene_log_heads AS h (scene_id, last_seq)
    SELECT scene_id, n FROM counts ORDER BY scene_id
    ON CONFLICT (scene_id) DO UPDATE SET last_seq = h.last_seq + EXCLUDED.last_seq
    RETURNING h.scene_id, h.last_seq
  )
  INSERT INTO scene_versions (scene_id, seq, yjs_update, created_by, compacted_count)
  SELECT k.scene_id,
         heads.last_seq - counts.n + row_number() OVER (PARTITION BY k.scene_id ORDER BY k.ord),
         k.yjs_update,
         k.created_by,
         k.update_count
  FROM known k
  JOIN counts ON counts.scene_id = k.scene_id
  JOIN heads ON heads.scene_id = k.scene_id
  RETURNING version_id, scene_id, seq, created_at`;

/** Splits `length (4 bytes, big-endian) || bytes` records into views on the packed value. */
export function unpackUpdates(packed: Uint8Array): Uint8Array[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const updates: Uint8Array[] = [];
  let offset = 0;
  while (offset < packed.byteLength) {
    const length = view.getUint32(offset);
    offset += 4;
    if (offset + length > packed.byteLength) throw new Error('packed updates are truncated');
    updates.push(packed.subarray(offset, offset + length));
    offset += length;
  }
  return updates;
}
