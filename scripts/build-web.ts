/**
 * Builds the editor page (web/) into dist/web with esbuild: `npm run build:web`, run by npm's
 * `postinstall` (so `npm ci` leaves a servable page) and `prestart` (so `npm start` serves what
 * web/ holds now). Everything comes from node_modules; nothing is fetched.
 *
 *   dist/web/index.html
 *   dist/web/assets/editor.js   (+ .map)   one ES module: TipTap, the screenplay schema of
 *   dist/web/assets/editor.css  (+ .map)   src/screenplay/schema.ts, Yjs, the Hocuspocus provider
 *   dist/web/assets/script.css  (+ .map)   the continuous script's sections (web/scriptView.ts)
 *
 * Each file is written to a temporary name and renamed into place, so a server reading dist/web
 * while a build runs (or two builds running at once, as test files may) never serves half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const WEB_SOURCE_DIR = path.join(projectRoot, 'web');
export const WEB_DIST_DIR = path.join(projectRoot, 'dist', 'web');

export interface BuildWebOptions {
  outDir?: string;
  minify?: boolean;
}

export interface BuildWebResult {
  outDir: string;
  files: { path: string; bytes: number }[];
  durationMs: number;
}

export async function buildWebPage(options: BuildWebOptions = {}): Promise<BuildWebResult> {
  const started = performance.now();
  const outDir = path.resolve(options.outDir ?? WEB_DIST_DIR);
  const assetsDir = path.join(outDir, 'assets');
  const result = await build({
    entryPoints: { editor: path.join(WEB_SOURCE_DIR, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    outdir: assetsDir,
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const css = await build({
    entryPoints: { editor: path.join(WEB_SOURCE_DIR, 'editor.css'), script: path.join(WEB_SOURCE_DIR, 'script.css') },
    bundle: true,
    minify: options.minify ?? true,
    sourcemap: 'linked',
    outdir: assetsDir,
    write: false,
    logLevel: 'silent',
  });
  const html = await readFile(path.join(WEB_SOURCE_DIR, 'index.html'));

  const outputs = [
    ...result.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
    ...css.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
    { path: path.join(outDir, 'index.html'), contents: new Uint8Array(html) },
  ];
  await mkdir(assetsDir, { recursive: true });
  for (const output of outputs) await writeAtomically(output.path, output.contents);
  return {
    outDir,
    files: outputs.map((output) => ({ path: path.relative(outDir, output.path), bytes: output.contents.byteLength })),
    durationMs: Math.round(performance.now() - started),
  };
}

async function writeAtomically(file: string, contents: Uint8Array): Promise<void> {
  const existing = await readFile(file).catch(() => null);
  if (existing && Buffer.compare(existing, contents) === 0) return; // unchanged: keep its mtime (and ETag)
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWebPage()
    .then(({ outDir, files, durationMs }) => {
      const total = files.reduce((sum, file) => sum + file.bytes, 0);
      process.stdout.write(`build:web: ${files.length} files, ${Math.round(total / 1024)} KiB in ${path.relative(projectRoot, outDir)} (${durationMs} ms)\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`build:web failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
