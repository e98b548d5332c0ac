import { Writable } from 'node:stream';
import { pino, type LevelWithSilent } from 'pino';
import type { Logger } from '../../src/logger.ts';

/** A logger that keeps every entry from `level` up, to assert on structured fields. */
export function capturingLogger(level: LevelWithSilent = 'debug'): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) entries.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), entries };
}
