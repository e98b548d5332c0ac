// How the log's rows come back from the drivers and what the rest of the code sees of them: one
// mapping, shared by every statement of src/log that reads `scene_versions` rows.

/** int8 and numeric come back as bigint (Prisma, PGlite) or as a decimal string (node-pg). */
export type Numeric = bigint | string | number;

/** A row of the log as loading sees it. */
export interface StoredUpdate {
  versionId: string;
  seq: bigint;
  update: Uint8Array;
  isCompacted: boolean;
  compactedCount: number;
  createdAt: Date;
}

/** The columns `toStoredUpdate` reads; a statement that maps its rows with it selects these. */
export const STORED_UPDATE_COLUMNS = 'version_id, seq, yjs_update, is_compacted, compacted_count, created_at';

/** A `scene_versions` row as the drivers return it (before `toStoredUpdate`). */
export interface LoadedRow {
  version_id: string;
  seq: Numeric;
  yjs_update: Uint8Array;
  is_compacted: boolean;
  compacted_count: number;
  created_at: Date;
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

/** The row with the highest sequence number (the first of them when a seq repeats). */
export function newestRow(rows: readonly StoredUpdate[]): StoredUpdate {
  return rows.reduce((newest, row) => (row.seq > newest.seq ? row : newest));
}

/** A nullable int8 or numeric as a bigint. */
export function toSeq(value: Numeric | null | undefined): bigint | null {
  return value == null ? null : BigInt(value);
}

/** node-pg sends a Buffer as bytea; a view on a larger buffer is copied to exactly its bytes. */
export function toBuffer(update: Uint8Array): Buffer {
  return Buffer.from(update.buffer, update.byteOffset, update.byteLength);
}

/** The lowest scene id: where a pass that pages through scenes by id starts. */
export const FIRST_SCENE = '00000000-0000-0000-0000-000000000000';
