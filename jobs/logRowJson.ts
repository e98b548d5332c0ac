import type { ExportedRow } from '../src/log/clear.ts';

/**
 * A log row as the jobs' export files hold it (clear-yjs's backup, export-scene's file): ids as they
 * are, the seq as a decimal string, times in ISO 8601, the update in base64. import-scene reads it back.
 */
export function logRowJson(row: ExportedRow) {
  return {
    versionId: row.versionId,
    seq: row.seq.toString(),
    isCompacted: row.isCompacted,
    compactedCount: row.compactedCount,
    compactedBy: row.compactedBy,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    yjsUpdate: Buffer.from(row.update.buffer, row.update.byteOffset, row.update.byteLength).toString('base64'),
  };
}
