import { prismaExecutor, type SqlExecutor } from '../db/sql.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { SceneNotFoundError } from '../errors.ts';

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

/** A row of the log as loading sees it. */
export interface StoredUpdate {
  versionId: string;
  seq: bigint;
  update: Uint8Array;
  isCompacted: boolean;
  compactedCount: number;
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

interface AppendedRow {
  version_id: string;
  scene_id: string;
  seq: Numeric;
  created_at: Date;
}

/** A `scene_versions` row as the drivers return it (before `toStoredUpdate`). */
export interface LoadedRow {
  version_id: string;
  seq: Numeric;
  yjs_update: Uint8Array;
  is_compacted: boolean;
  compacted_count: number;
  created_at: Date;
}

/**
 * The only code that appends to and loads from `scene_versions`.
 *
 * Sequence numbers come from `scene_log_heads`: the statement that inserts a batch first bumps each
 * scene's head row, and that row lock is held until commit. A second batch for the same scene (from
 * this or another instance) therefore waits and reads the new head, so a scene's `seq` order is its
 * commit order: whoever has read seq N has seen every row below N. Compaction and snapshots rely on
 * that to name exactly what they covered.
 *
 * Lock order: code that locks a scene's `scenes` row as well (seeding, clear-yjs) takes it before
 * the head row, so it cannot deadlock with another such caller. Appends never lock the scene row
 * (their foreign-key checks take KEY SHARE, which a FOR NO KEY UPDATE lock does not block).
 */
export class SceneLog {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * The same store bound to an open interactive transaction, so a caller can append under locks
   * it took in that transaction (seeding checks "the log is still empty" and appends the seed
   * atomically). On PGlite every statement of the transaction must go through `tx`: the single
   * connection is held by the transaction, and a query on the outer client would wait for it.
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
    const [row] = await this.sql.query<{ last_seq: bigint | string }>(
      'scene_log_lock_head',
      `INSERT INTO scene_log_heads AS h (scene_id, last_seq) VALUES ($1::uuid, 0)
       ON CONFLICT (scene_id) DO UPDATE SET last_seq = h.last_seq
       RETURNING h.last_seq`,
      [sceneId],
    );
    return BigInt(row!.last_seq);
  }

  /**
   * The rows a load replays, in sequence order: the newest compacted row and every row not merged
   * into it. Compaction marks exactly the rows it merged (`compacted_by`), so "not marked" is the
   * live set and one index range scan reads it.
   */
  async load(sceneId: string): Promise<StoredUpdate[]> {
    const rows = await this.sql.query<LoadedRow>(
      'scene_log_load',
      `SELECT version_id, seq, yjs_update, is_compacted, compacted_count, created_at
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
      latestSeq: row?.latest_seq == null ? null : BigInt(row.latest_seq),
    };
  }

  /**
   * The rows that rebuild the scene as it was at `at` (history views): the newest compacted row
   * created by then, if any, and every original after it committed by then. A compacted row is
   * created after every row it merged, so all it stands for is older than `at`; starting from it
   * keeps history working once retention has deleted the merged originals.
   */
  async loadUntil(sceneId: string, at: Date): Promise<StoredUpdate[]> {
    const rows = await this.sql.query<LoadedRow>(
      'scene_log_load_until',
      `WITH base AS (
         SELECT version_id, seq, yjs_update, is_compacted, compacted_count, created_at
         FROM scene_versions
         WHERE scene_id = $1::uuid AND is_compacted AND created_at <= $2
         ORDER BY seq DESC LIMIT 1
       )
       SELECT * FROM base
       UNION ALL
       SELECT version_id, seq, yjs_update, is_compacted, compacted_count, created_at
       FROM scene_versions
       WHERE scene_id = $1::uuid AND NOT is_compacted AND created_at <= $2
         AND seq > COALESCE((SELECT seq FROM base), 0)
       ORDER BY seq, is_compacted DESC`,
      [sceneId, at],
    );
    return rows.map(toStoredUpdate);
  }

  async counts(sceneId: string): Promise<LogCounts> {
    type Row = { live: Numeric; updates: Numeric | null; stored: Numeric; latest_seq: Numeric | null; first_at: Date | null; last_at: Date | null };
    const [row] = await this.sql.query<Row>(
      'scene_log_counts',
      `SELECT count(*) FILTER (WHERE compacted_by IS NULL) AS live,
              sum(compacted_count) FILTER (WHERE compacted_by IS NULL) AS updates,
              count(*) AS stored,
              max(seq) AS latest_seq,
              min(created_at) AS first_at,
              max(created_at) AS last_at
       FROM scene_versions WHERE scene_id = $1::uuid`,
      [sceneId],
    );
    return {
      live: Number(row?.live ?? 0),
      updates: Number(row?.updates ?? 0),
      stored: Number(row?.stored ?? 0),
      latestSeq: row?.latest_seq == null ? null : BigInt(row.latest_seq),
      firstAt: row?.first_at ?? null,
      lastAt: row?.last_at ?? null,
    };
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

/** int8 and numeric come back as bigint (Prisma, PGlite) or as a decimal string (node-pg). */
export type Numeric = bigint | string | number;

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

/** node-pg sends a Buffer as bytea; a view on a larger buffer is copied to exactly its bytes. */
export function toBuffer(update: Uint8Array): Buffer {
  return Buffer.from(update.buffer, update.byteOffset, update.byteLength);
}

export function toStoredUpdate(row: LoadedRow): StoredUpdate {
  return {
    versionId: row.version_id,
    seq: BigInt(row.seq),
    update: row.yjs_update,
    isCompacted: row.is_compacted,
    compactedCount: Number(row.compacted_count),
    createdAt: row.created_at,
  };
}
