import { readFile } from 'node:fs/promises';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import type { Logger } from '../logger.ts';
import { SchemaEngineError } from './errors.ts';

/**
 * Prisma's schema engine (the one behind `prisma migrate`), run as WebAssembly.
 *
 * The native engine binary is downloaded at first use, which this project cannot rely on; the
 * same engine ships as `@prisma/schema-engine-wasm` and talks to the database through a driver
 * adapter. Its entry module `import`s the `.wasm` file, which Node cannot do from ESM, so the
 * module is instantiated here by hand with the wasm-bindgen glue (`schema_engine_bg.js`) as its
 * import object.
 */

type Glue = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let gluePromise: Promise<Glue> | undefined;

/** Compiles and instantiates the engine once per process (about 5 MB of wasm). */
function loadGlue(): Promise<Glue> {
  gluePromise ??= instantiateGlue().catch((error: unknown) => {
    gluePromise = undefined;
    throw error;
  });
  return gluePromise;
}

async function instantiateGlue(): Promise<Glue> {
  // The package exports only the glue, not the .wasm file: find the latter next to the former.
  const glueUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const glue: Glue = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = await readFile(new URL('./schema_engine_bg.wasm', glueUrl));
  // The glue module is the wasm's only import namespace, under the name the bundler would use.
  const { instance } = await WebAssembly.instantiate(bytes, {
    './schema_engine_bg.js': withTrackedTimers(glue as unknown as WebAssembly.ModuleImports),
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

/**
 * The engine arms timers it never clears (it imports `setTimeout` but no `clearTimeout`): the
 * 10 s advisory-lock timeout of every `applyMigrations` outlives the call and keeps a finished
 * CLI process alive for 10 s. Its timers are recorded here and cleared once no engine is open.
 */
const pendingEngineTimers = new Set<NodeJS.Timeout>();
let openEngines = 0;

function withTrackedTimers(imports: WebAssembly.ModuleImports): WebAssembly.ModuleImports {
  const tracked: WebAssembly.ModuleImports = { ...imports };
  for (const name of Object.keys(imports)) {
    if (!name.startsWith('__wbg_setTimeout_')) continue;
    tracked[name] = (callback: () => void, delayMs: number) => {
      const timer = setTimeout(() => {
        pendingEngineTimers.delete(timer);
        callback();
      }, delayMs >>> 0);
      pendingEngineTimers.add(timer);
      return timer;
    };
  }
  return tracked;
}

function clearEngineTimersIfIdle(): void {
  if (openEngines > 0) return;
  for (const timer of pendingEngineTimers) clearTimeout(timer);
  pendingEngineTimers.clear();
}

/** One Prisma schema file, by the name it has in error messages. */
export interface SchemaFile {
  path: string;
  content: string;
}

export interface OpenSchemaEngineOptions {
  /** The Prisma schema the engine validates against (and diffs to). */
  schema: SchemaFile;
  /** Where the engine connects: its main database, and its shadow database for replays. */
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  logger: Logger;
}

export type { SchemaEngine };

/**
 * Runs `fn` with a fresh engine and frees the engine (its wasm memory and leftover timers)
 * afterwards, whatever happens. The engine does not close the adapters it opened: that is the
 * caller's job, after this returns.
 */
export async function withSchemaEngine<T>(
  options: OpenSchemaEngineOptions,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const glue = await loadGlue();
  openEngines += 1;
  try {
    let engine: SchemaEngine;
    try {
      engine = await glue.SchemaEngine.new(
        { datamodels: [[options.schema.path, options.schema.content]] },
        engineLogForwarder(options.logger),
        bindMigrationAwareSqlAdapterFactory(options.adapterFactory),
      );
    } catch (error) {
      throw toSchemaEngineError(error);
    }
    try {
      return await fn(engine);
    } finally {
      engine.free();
    }
  } finally {
    openEngines -= 1;
    clearEngineTimersIfIdle();
  }
}

interface EngineLogLine {
  level?: string;
  fields?: { message?: string; [key: string]: unknown };
  target?: string;
}

/**
 * The engine logs JSON lines. "Applying `x`" carries the whole migration script in `script`;
 * it is left out so a migration does not flood the log.
 */
function engineLogForwarder(logger: Logger): (line: string) => void {
  return (line: string) => {
    let parsed: EngineLogLine;
    try {
      parsed = JSON.parse(line) as EngineLogLine;
    } catch {
      logger.debug({ line }, 'schema engine');
      return;
    }
    const { message = 'schema engine', script: _script, ...fields } = parsed.fields ?? {};
    const context = { ...fields, target: parsed.target };
    switch (parsed.level) {
      case 'ERROR':
        logger.error(context, message);
        break;
      case 'WARN':
        logger.warn(context, message);
        break;
      default:
        logger.debug(context, message);
    }
  };
}

/**
 * Engine errors carry a span trace after the message ("   0: schema_engine_wasm::..."); the
 * message alone is what a person needs.
 */
export function engineErrorMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const lines: string[] = [];
  for (const line of raw.split('\n')) {
    if (/^\s+\d+: /.test(line)) break;
    lines.push(line);
  }
  return lines.join('\n').trim();
}

export function toSchemaEngineError(error: unknown): SchemaEngineError {
  return new SchemaEngineError(engineErrorMessage(error), { cause: error });
}
