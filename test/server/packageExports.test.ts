import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SCREENPLAY_FRAGMENT_NAME, SCREENPLAY_SCHEMA_VERSION } from '../../src/screenplay/schema.ts';
import { projectRoot } from '../helpers/process.ts';

/**
 * `writersroom-collab/screenplay`, the schema another project's editor imports (package.json
 * `exports`). Node resolves a package's own name through its exports from inside the package, so a
 * plain `node` in the repository resolves it exactly as a dependant's resolver would.
 */
describe('the package subpath writersroom-collab/screenplay', () => {
  it('resolves through package.json exports to the screenplay schema, with its extensions and constants', async () => {
    const program = `
      const resolved = import.meta.resolve('writersroom-collab/screenplay');
      const schema = await import('writersroom-collab/screenplay');
      console.log(JSON.stringify({
        resolved,
        version: schema.SCREENPLAY_SCHEMA_VERSION,
        fragment: schema.SCREENPLAY_FRAGMENT_NAME,
        extensions: schema.screenplayExtensions.map((extension) => extension.name),
      }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', program], { cwd: projectRoot });
    const answer = JSON.parse(stdout) as { resolved: string; version: number; fragment: string; extensions: string[] };
    expect(answer.resolved).toBe(new URL('src/screenplay/schema.ts', `file://${projectRoot}/`).href);
    expect(answer.version).toBe(SCREENPLAY_SCHEMA_VERSION);
    expect(answer.fragment).toBe(SCREENPLAY_FRAGMENT_NAME);
    expect(answer.extensions).toEqual(expect.arrayContaining(['doc', 'text', 'paragraph', 'sceneHeading', 'action', 'character', 'dialogue', 'parenthetical', 'transition', 'centered', 'bold', 'italic', 'underline']));
  });
});
