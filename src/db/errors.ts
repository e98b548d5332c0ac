/**
 * Errors of the database layer. Each has a stable `code` so callers (the CLI, start-up, the
 * health routes) can react to the kind of failure without parsing messages, and a one-line
 * message fit to print as is.
 */
export type DatabaseErrorCode =
  | 'DB_URL_INVALID'
  | 'DB_UNREACHABLE'
  | 'DB_DATA_DIR_IN_USE'
  | 'MIGRATION_FAILED'
  | 'MIGRATIONS_UNREADABLE'
  | 'MIGRATION_EXISTS'
  | 'MIGRATION_NAME_INVALID'
  | 'SCHEMA_ENGINE_FAILED'
  | 'PRISMA_GENERATE_FAILED';

export class DatabaseError extends Error {
  readonly code: DatabaseErrorCode;

  constructor(code: DatabaseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `DATABASE_URL` is not a PostgreSQL connection string. */
export class InvalidDatabaseUrlError extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_URL_INVALID', message, options);
  }
}

/** The server does not answer, refuses the login, or the database does not exist. */
export class DatabaseUnreachableError extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_UNREACHABLE', message, options);
  }
}

/** Another process (or another open database in this one) is using the PGlite data directory. */
export class DataDirectoryInUseError extends DatabaseError {
  constructor(message: string) {
    super('DB_DATA_DIR_IN_USE', message);
  }
}

/** A migration script failed; Prisma has recorded the failure in `_prisma_migrations`. */
export class MigrationFailedError extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MIGRATION_FAILED', message, options);
  }
}

/** The migrations directory (or the schema file) cannot be read. */
export class MigrationsUnreadableError extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MIGRATIONS_UNREADABLE', message, options);
  }
}

/** `createMigration` would overwrite an existing migration directory. */
export class MigrationExistsError extends DatabaseError {
  constructor(message: string) {
    super('MIGRATION_EXISTS', message);
  }
}

/** A migration name with nothing usable in it once slugified. */
export class InvalidMigrationNameError extends DatabaseError {
  constructor(message: string) {
    super('MIGRATION_NAME_INVALID', message);
  }
}

/** Any other failure reported by Prisma's schema engine. */
export class SchemaEngineError extends DatabaseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SCHEMA_ENGINE_FAILED', message, options);
  }
}

/** `prisma generate` exited with an error. */
export class PrismaGenerateError extends DatabaseError {
  constructor(message: string) {
    super('PRISMA_GENERATE_FAILED', message);
  }
}

/** The message of an unknown thrown value, for wrapping it in one of the errors above. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
