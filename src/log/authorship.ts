import type { SqlExecutor } from '../db/sql.ts';
import { toSeq, type Numeric } from './rows.ts';

/**
 * Where a replay that needs every row's writer (blame, src/history/blame.ts) can start: the finest
 * resolution the log still holds. Originals stand for one writer's update each; a compacted row
 * (written by compaction, `created_by` null) stands for everything up to its seq, whoever wrote it.
 */
export interface AuthorshipBase {
  /**
   * The compacted row the replay must start from, because retention deleted originals at or below
   * its seq; null when every original from seq 1 on is retained (or was quarantined).
   */
  compacted: { seq: bigint; versionId: string; createdAt: Date } | null;
  /** The newest seq of the log when it was read: the replay goes up to it and no further. */
  upTo: bigint | null;
  /** Seqs of quarantined rows: missing on purpose, never a hole. */
  quarantined: bigint[];
}

/** A log row with its writer, as blame reads it, page by page. */
export interface AuthoredRow {
  seq: bigint;
  versionId: string;
  update: Uint8Array;
  isCompacted: boolean;
  /** `users.user_id` of the writer; null for compaction and for the server itself (seeding, repairs). */
  createdBy: string | null;
  createdAt: Date;
}

interface AuthoredDbRow {
  seq: Numeric;
  version_id: string;
  yjs_update: Uint8Array;
  is_compacted: boolean;
  created_by: string | null;
  created_at: Date;
}

// The highest seq no retained original (nor quarantined row) stands for: below a gap in the
// originals, or above the newest of them (a compacted row at the top whose originals are gone).
const HIGHEST_MISSING_SQL = `
  WITH present AS (
    SELECT seq FROM scene_versions WHERE scene_id = $1::uuid AND NOT is_compacted
    UNION
    SELECT seq FROM quarantined_updates WHERE scene_id = $1::uuid
  ), steps AS (
    SELECT seq, lag(seq, 1, 0::bigint) OVER (ORDER BY seq) AS prev FROM present
  )
  SELECT (SELECT max(seq - 1) FROM steps WHERE seq - prev > 1) AS gap_top,
         (SELECT max(seq) FROM present) AS present_top,
         (SELECT max(seq) FROM scene_versions WHERE scene_id = $1::uuid) AS log_top,
         (SELECT array_agg(seq) FROM quarantined_updates WHERE scene_id = $1::uuid) AS quarantined`;

const COVERING_COMPACTED_SQL = `
  SELECT seq, version_id, created_at FROM scene_versions
  WHERE scene_id = $1::uuid AND is_compacted AND seq >= $2::bigint
  ORDER BY seq LIMIT 1`;

// The base compacted row (seq = $3) and the originals above it, in seq order, keyset-paged by seq.
const AUTHORED_PAGE_SQL = `
  SELECT seq, version_id, yjs_update, is_compacted, created_by, created_at
  FROM scene_versions
  WHERE scene_id = $1::uuid AND seq > $2::bigint AND seq <= $4::bigint
    AND ((is_compacted AND seq = $3::bigint) OR (NOT is_compacted AND seq > $3::bigint))
  ORDER BY seq
  LIMIT $5`;

/**
 * The log read with its writers: where a full-resolution replay can start, and the rows from there
 * in pages, so a 100,000-row log never sits in memory at once. Retention may delete originals
 * between two pages; the caller checks that the seqs it read run on without a hole (`quarantined`
 * excepted) and starts again when they do not.
 */
export class LogAuthorship {
  constructor(private readonly sql: SqlExecutor) {}

  async base(sceneId: string): Promise<AuthorshipBase> {
    const [row] = await this.sql.query<{ gap_top: Numeric | null; present_top: Numeric | null; log_top: Numeric | null; quarantined: Numeric[] | null }>(
      'scene_log_authorship_missing',
      HIGHEST_MISSING_SQL,
      [sceneId],
    );
    const upTo = toSeq(row?.log_top);
    const quarantined = (row?.quarantined ?? []).map((seq) => BigInt(seq));
    if (upTo === null) return { compacted: null, upTo: null, quarantined };
    const presentTop = toSeq(row?.present_top) ?? 0n;
    let missing = toSeq(row?.gap_top) ?? 0n;
    if (upTo > presentTop && upTo > missing) missing = upTo;
    if (missing === 0n) return { compacted: null, upTo, quarantined };
    // A compacted row carries the highest seq it merged and stands for every update up to it.
    const [covering] = await this.sql.query<{ seq: Numeric; version_id: string; created_at: Date }>('scene_log_authorship_covering', COVERING_COMPACTED_SQL, [
      sceneId,
      missing.toString(),
    ]);
    if (!covering) throw new UncoveredHoleError(sceneId, missing);
    return { compacted: { seq: BigInt(covering.seq), versionId: covering.version_id, createdAt: covering.created_at }, upTo, quarantined };
  }

  /** Up to `limit` rows after `afterSeq` (the base compacted row, then originals), up to `base.upTo`. */
  async page(sceneId: string, base: AuthorshipBase, afterSeq: bigint, limit: number): Promise<AuthoredRow[]> {
    if (base.upTo === null) return [];
    const rows = await this.sql.query<AuthoredDbRow>('scene_log_authorship_page', AUTHORED_PAGE_SQL, [
      sceneId,
      afterSeq.toString(),
      (base.compacted?.seq ?? 0n).toString(),
      base.upTo.toString(),
      limit,
    ]);
    return rows.map((row) => ({
      seq: BigInt(row.seq),
      versionId: row.version_id,
      update: row.yjs_update,
      isCompacted: row.is_compacted,
      createdBy: row.created_by,
      createdAt: row.created_at,
    }));
  }
}

/** The log lacks updates no compacted row stands for: nothing can attribute the content honestly. */
export class UncoveredHoleError extends Error {
  readonly code = 'LOG_HOLE';
  constructor(
    readonly sceneId: string,
    readonly seq: bigint,
  ) {
    super(`The log of scene ${sceneId} lacks seq ${seq} and no compacted row covers it`);
    this.name = 'UncoveredHoleError';
  }
}
