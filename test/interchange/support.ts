// What the Fountain and FDX tests share: the fixture files and catching a parse refusal.
import { readFileSync } from 'node:fs';
import { InterchangeParseError } from '../../src/interchange/errors.ts';

/** A file of test/interchange/fixtures, as text. */
export function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** The InterchangeParseError `run` throws; fails when it throws nothing or something else. */
export function parseError(run: () => unknown): InterchangeParseError {
  try {
    run();
  } catch (error) {
    if (error instanceof InterchangeParseError) return error;
    throw error;
  }
  throw new Error('expected an InterchangeParseError');
}
