import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, startupLine } from '../../src/logger.ts';
import { projectRoot } from '../helpers/process.ts';

describe('log format', () => {
  it.each([
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('LOG_FORMAT=%s with a TTY %s: %s', (setting, tty, format) => {
    expect(chooseLogFormat(setting, tty)).toBe(format);
  });

  it('writes JSON lines when stdout is not a terminal, and pretty lines when asked', async () => {
    const run = (format: string) =>
      new Promise<string>((resolve, reject) => {
        const program = `import { createLogger } from ${JSON.stringify(path.join(projectRoot, 'src/logger.ts'))};
          createLogger({ format: ${JSON.stringify(format)} }).info({ port: 3000 }, 'hello');`;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', program], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.once('error', reject);
        child.once('exit', () => resolve(out));
      });
    const json = (await run('auto')).trim().split('\n');
    expect(json).toHaveLength(1);
    expect(JSON.parse(json[0]!)).toMatchObject({ level: 30, msg: 'hello', port: 3000, name: 'writersroom-collab' });
    const pretty = await run('pretty');
    expect(pretty).toMatch(/INFO.*hello/);
    expect(() => JSON.parse(pretty)).toThrow();
  });

  it('says where to open the editor, with a browsable address for a wildcard listen', () => {
    expect(startupLine({ httpUrl: 'http://0.0.0.0:3000', demo: false })).toBe('open http://127.0.0.1:3000/ in a browser');
    expect(startupLine({ httpUrl: 'http://127.0.0.1:3000', demo: true })).toMatch(/^open http:\/\/127\.0\.0\.1:3000\/ in a browser \(development/);
  });
});
