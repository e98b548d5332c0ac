import type { PGlite } from '@electric-sql/pglite';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm';
import type { Logger } from '../logger.ts';
import { parsePostgresUrl, probePostgres, ScratchPGliteFactory, ScriptSafePg, ScriptSafePGlite } from './adapter.ts';
import { InvalidMigrationNameError, MigrationFailedError } from './errors.ts';
import {
  defaultMigrationsDir,
  defaultSchemaPath,
  loadMigrations,
  migrationDirectoryName,
  migrationLockContent,
  readSchemaFile,
  slugifyMigrationName,
  writeMigration,
} from './migrationFiles.ts';
import { engineErrorMessage, type SchemaFile, toSchemaEngineError, withSchemaEngine } from './schemaEngine.ts';

/**
 * `prisma migrate` on Prisma's WebAssembly schema engine: apply, status, drift, create.
 * Everything the CLI records (`_prisma_migrations`, checksums, failure logs) is written by the
 * engine itself, so a database migrated here is indistinguishable from one migrated by the CLI.
 */

/** The database to migrate: a PostgreSQL URL, or an open PGlite instance (one process owns its directory). */
export type MigrationTarget = { kind: 'postgres'; databaseUrl: string } | { kind: 'pglite'; pglite: PGlite };

export interface MigrationSources {
  /** Default: the project's `prisma/migrations`. */
  migrationsDir?: string;
  /** Default: the project's `prisma/schema.prisma`. */
  schemaPath?: string;
}

const PROVIDER = 'postgresql';
/** No tables or enums are managed outside Prisma. */
const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
/** What `diff --script` prints when the two sides agree. */
const EMPTY_MIGRATION = '-- This is an empty migration.';

export interface ApplyMigrationsResult {
  /** Names of the migrations applied by this call, in order; empty when the database was up to date. */
  appliedMigrationNames: string[];
}

/**
 * Applies the pending migrations, like `prisma migrate deploy`. The engine holds Prisma's
 * advisory lock (72707369) meanwhile, so concurrent start-ups apply each migration once.
 */
export async function applyMigrations(
  options: MigrationSources & { target: MigrationTarget; logger: Logger; /** The directory as `loadMigrations` read it already. */ migrations?: MigrationList },
): Promise<ApplyMigrationsResult> {
  const schema = await readSchemaFile(options.schemaPath ?? defaultSchemaPath);
  const migrationsList = options.migrations ?? (await loadMigrations(options.migrationsDir ?? defaultMigrationsDir));
  return withTargetAdapter(options.target, (adapterFactory) =>
    withSchemaEngine({ schema, adapterFactory, logger: options.logger }, async (engine) => {
      let result;
      try {
        result = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
      } catch (error) {
        throw toMigrationFailedError(error);
      }
      for (const name of result.appliedMigrationNames) {
        options.logger.info({ migration: name }, 'applied migration');
      }
      return { appliedMigrationNames: result.appliedMigrationNames };
    }),
  );
}

export interface MigrationStatus {
  /** Whether `_prisma_migrations` exists (false on a database never migrated). */
  hasMigrationsTable: boolean;
  /** In the directory, not yet applied. */
  pendingMigrationNames: string[];
  /** Recorded as applied, but missing from the directory. */
  unknownMigrationNames: string[];
  /** Started and failed; `migrate deploy` refuses to run until they are resolved. */
  failedMigrationNames: string[];
  /** Applied, but the script on disk has changed since (checksum mismatch). */
  editedMigrationNames: string[];
}

/** The database's migration history compared with the directory, like `prisma migrate status`. */
export async function migrationStatus(
  options: MigrationSources & { target: MigrationTarget; logger: Logger },
): Promise<MigrationStatus> {
  const schema = await readSchemaFile(options.schemaPath ?? defaultSchemaPath);
  const migrationsList = await loadMigrations(options.migrationsDir ?? defaultMigrationsDir);
  return withTargetAdapter(options.target, (adapterFactory) =>
    withSchemaEngine({ schema, adapterFactory, logger: options.logger }, async (engine) => {
      const diagnosis = await engine
        .diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS })
        .catch((error: unknown) => {
          throw toSchemaEngineError(error);
        });
      const history = diagnosis.history;
      const pending =
        history === null || history.diagnostic === 'migrationsDirectoryIsBehind' ? [] : history.unappliedMigrationNames;
      const unknown = history === null || history.diagnostic === 'databaseIsBehind' ? [] : history.unpersistedMigrationNames;
      return {
        hasMigrationsTable: diagnosis.hasMigrationsTable,
        pendingMigrationNames: pending,
        unknownMigrationNames: unknown,
        failedMigrationNames: diagnosis.failedMigrationNames,
        editedMigrationNames: diagnosis.editedMigrationNames,
      };
    }),
  );
}

/**
 * The SQL that would take a database built by the migrations to the schema, or '' when they
 * agree: the drift check, and the body of the next migration. The migrations are replayed on
 * an in-memory PGlite shadow database, so no server is needed.
 */
export async function diffMigrationsToSchema(
  options: MigrationSources & { logger: Logger; /** Use this schema text instead of reading `schemaPath`. */ datamodel?: string },
): Promise<string> {
  const schema: SchemaFile =
    options.datamodel === undefined
      ? await readSchemaFile(options.schemaPath ?? defaultSchemaPath)
      : { path: 'schema.prisma', content: options.datamodel };
  const migrationsList = withDefaultLockfile(await loadMigrations(options.migrationsDir ?? defaultMigrationsDir));
  const scratch = new ScratchPGliteFactory();
  try {
    return await withSchemaEngine({ schema, adapterFactory: scratch, logger: options.logger }, async (engine) => {
      const result = await engine
        .diff({
          from: { tag: 'migrations', ...migrationsList },
          to: { tag: 'schemaDatamodel', files: [schema] },
          script: true,
          exitCode: null,
          filters: NO_FILTERS,
        })
        .catch((error: unknown) => {
          throw toSchemaEngineError(error);
        });
      const script = result.stdout ?? '';
      return script.trim() === EMPTY_MIGRATION || script.trim() === '' ? '' : script;
    });
  } finally {
    await scratch.close();
  }
}

export type CreateMigrationResult =
  | { created: false }
  | { created: true; directoryName: string; scriptPath: string; script: string };

/**
 * Writes the next migration (`<timestamp>_<name>/migration.sql`) from the difference between
 * the migrations and the schema, like `prisma migrate dev --create-only`; writes nothing when
 * they agree. (The engine's own `createMigration` needs a shadow database factory it does not
 * take from a driver adapter, so the script comes from `diff`, which produces the same SQL.)
 */
export async function createMigration(
  options: MigrationSources & { name: string; logger: Logger; now?: Date },
): Promise<CreateMigrationResult> {
  if (slugifyMigrationName(options.name) === '') {
    throw new InvalidMigrationNameError(`"${options.name}" is not a usable migration name (use letters, digits, _)`);
  }
  const script = await diffMigrationsToSchema(options);
  if (script === '') return { created: false };
  const directoryName = migrationDirectoryName(options.name, options.now ?? new Date());
  const scriptPath = await writeMigration(options.migrationsDir ?? defaultMigrationsDir, directoryName, script, PROVIDER);
  options.logger.info({ migration: directoryName }, 'created migration');
  return { created: true, directoryName, scriptPath, script };
}

/**
 * The engine reads the provider of a migration history from its lock file. A project without
 * migrations has none yet; it is a PostgreSQL project, so diff from an empty PostgreSQL history.
 */
function withDefaultLockfile(list: MigrationList): MigrationList {
  if (list.lockfile.content !== null) return list;
  return { ...list, lockfile: { ...list.lockfile, content: migrationLockContent(PROVIDER) } };
}

/**
 * Runs `fn` with an adapter factory for the target, disposing every adapter the engine opened
 * afterwards. For PostgreSQL that ends the pool, which also releases the engine's session-level
 * advisory lock (the engine takes it but a driver adapter gives no guarantee it is released on
 * the same connection).
 */
async function withTargetAdapter<T>(
  target: MigrationTarget,
  fn: (factory: SqlMigrationAwareDriverAdapterFactory) => Promise<T>,
): Promise<T> {
  if (target.kind === 'pglite') {
    // The instance belongs to the caller; the PGlite adapter's dispose does not close it.
    return fn(new ScriptSafePGlite(target.pglite));
  }
  parsePostgresUrl(target.databaseUrl);
  // Fail with one clear message before the engine turns a connection error into a vague one.
  await probePostgres(target.databaseUrl);
  // One connection: the advisory lock, the history table and the scripts all share one session.
  const tracked = trackAdapters(new ScriptSafePg({ connectionString: target.databaseUrl, poolSize: 1 }));
  try {
    return await fn(tracked.factory);
  } finally {
    await tracked.disposeAll();
  }
}

function trackAdapters(inner: SqlMigrationAwareDriverAdapterFactory): {
  factory: SqlMigrationAwareDriverAdapterFactory;
  disposeAll(): Promise<void>;
} {
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    const dispose = adapter.dispose.bind(adapter);
    open.add(adapter);
    // The engine may dispose an adapter itself; ending a pg pool twice throws.
    adapter.dispose = async () => {
      if (!open.delete(adapter)) return;
      await dispose();
    };
    return adapter;
  };
  return {
    factory: {
      provider: inner.provider,
      adapterName: inner.adapterName,
      connect: async () => track(await inner.connect()),
      connectToShadowDb: async () => track(await inner.connectToShadowDb()),
    },
    disposeAll: async () => {
      await Promise.all([...open].map((adapter) => adapter.dispose()));
    },
  };
}

function toMigrationFailedError(error: unknown): MigrationFailedError {
  const raw = error instanceof Error ? error.message : String(error);
  // The span trace names the migration being applied.
  const migration = /migration_name="([^"]+)"/.exec(raw)?.[1];
  const message = engineErrorMessage(error).replace(/^external connector error\n/, '').replace(/\n+/g, ' ');
  return new MigrationFailedError(migration ? `migration ${migration} failed: ${message}` : message, { cause: error });
}
