// Server entry point. The editor page imports schema.ts / convert.ts / restBlocks.ts directly;
// this file also pulls in checksum.ts, which needs node:crypto.
export * from './schema.ts';
export * from './capitals.ts';
export * from './errors.ts';
export * from './restBlocks.ts';
export * from './convert.ts';
export * from './checksum.ts';
