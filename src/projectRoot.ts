import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding package.json, prisma/ and dist/web: the nearest ancestor of this module
 * that has a package.json. Found by walking up rather than by a fixed `../..`, because the same
 * module runs from src/ under tsx and from dist/src/ once compiled (`npm run build`), one level
 * deeper.
 */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}: the project's files are missing`);
  }
}
