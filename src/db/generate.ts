import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PrismaGenerateError } from './errors.ts';
import { defaultSchemaPath } from './migrationFiles.ts';

/**
 * `prisma generate`, offline.
 *
 * The Prisma CLI insists on having a native schema engine before it starts and downloads one
 * when it has none, which fails without internet access. `generate` never runs that engine, and
 * the CLI accepts any existing file named by `PRISMA_SCHEMA_ENGINE_BINARY` as the engine, so it
 * is pointed at a file that always exists (the CLI's own package.json). Migrations use the
 * WebAssembly engine instead (see schemaEngine.ts).
 */
export interface GeneratePrismaClientOptions {
  schemaPath?: string;
  /** Environment of the CLI process; the caller's by default. */
  env?: NodeJS.ProcessEnv;
}

export function prismaCliPath(): string {
  return fileURLToPath(new URL('./build/index.js', import.meta.resolve('prisma/package.json')));
}

/** The environment that lets `prisma generate` run without a download. */
export function offlinePrismaEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const configured = env.PRISMA_SCHEMA_ENGINE_BINARY;
  return {
    ...env,
    PRISMA_SCHEMA_ENGINE_BINARY:
      configured !== undefined && existsSync(configured)
        ? configured
        : fileURLToPath(import.meta.resolve('prisma/package.json')),
    // The CLI's update check and telemetry ping would only wait for a network that is not there.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
}

/** Runs `prisma generate` (output as configured in schema.prisma), passing its output through. */
export async function generatePrismaClient(options: GeneratePrismaClientOptions = {}): Promise<void> {
  const schemaPath = options.schemaPath ?? defaultSchemaPath;
  const child = spawn(process.execPath, [prismaCliPath(), 'generate', '--schema', schemaPath], {
    env: offlinePrismaEnv(options.env ?? process.env),
    stdio: 'inherit',
  });
  const exitCode = await new Promise<number | null>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise(code));
  });
  if (exitCode !== 0) {
    throw new PrismaGenerateError(`prisma generate exited with code ${exitCode ?? 'null (killed)'}`);
  }
}
