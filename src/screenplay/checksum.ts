// Server-only (node:crypto): a synchronous SHA-256 keeps the snapshot and divergence jobs simple.
// The browser-safe equivalent is checksumBlocksAsync in restBlocks.ts; both hash the same bytes.
import { createHash } from 'node:crypto';
import { canonicalBlocksJSON } from './restBlocks.ts';

// SHA-256 (hex) of the canonical JSON of the blocks: equal scenes hash equal whatever their key
// order or representation. Throws InvalidRestBlocksError for invalid blocks.
export function checksumBlocks(blocks: unknown): string {
  return createHash('sha256').update(canonicalBlocksJSON(blocks), 'utf8').digest('hex');
}
