import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { DatabaseUnreachableError, InvalidDatabaseUrlError, messageOf } from './errors.ts';

/**
 * Driver adapter factories for Prisma Client and for the schema engine.
 *
 * Both stock adapters mishandle `executeScript`, the call the schema engine makes to run a
 * migration script, so the factories here replace it:
 * - `@prisma/adapter-pg` splits the script on every `;` and runs the pieces one by one, which
 *   breaks a `;` inside a comment, a string or a function body, and runs the pieces outside any
 *   transaction. Prisma's native engine sends the whole script as one simple-protocol query (one
 *   implicit transaction); so do we.
 * - `pglite-prisma-adapter` does not await `exec`, so a failing migration is reported as applied
 *   and its error surfaces later as an unhandled rejection.
 * Prisma Client never calls `executeScript`, so the same factories serve it unchanged.
 */

/** Options of the PostgreSQL adapter factory. */
export interface PgAdapterOptions {
  connectionString: string;
  /** Maximum number of pooled connections. */
  poolSize: number;
  /** Errors of idle pooled connections (server restart, network loss); they must not crash the process. */
  onPoolError?: (error: Error) => void;
  connectionTimeoutMillis?: number;
}

/** The PostgreSQL factory (`@prisma/adapter-pg`) with a correct `executeScript`. */
export class ScriptSafePg extends PrismaPg {
  constructor(options: PgAdapterOptions) {
    super(
      {
        connectionString: options.connectionString,
        max: options.poolSize,
        connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
      },
      { onPoolError: options.onPoolError, onConnectionError: options.onPoolError },
    );
  }

  override async connect(): Promise<PgAdapter> {
    return withWholeScripts(await super.connect());
  }

  override async connectToShadowDb(): Promise<PgAdapter> {
    return withWholeScripts(await super.connectToShadowDb());
  }
}

/** The adapter class of `@prisma/adapter-pg`, which the package does not export by name. */
type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

function withWholeScripts(adapter: PgAdapter): PgAdapter {
  const pool = adapter.underlyingDriver();
  adapter.executeScript = async (script: string) => {
    try {
      // A query without parameters uses the simple protocol, which accepts several statements.
      await pool.query(script);
    } catch (error) {
      throw toDriverAdapterError(error);
    }
  };
  return adapter;
}

/**
 * The PGlite factory (`pglite-prisma-adapter`) with an awaited `executeScript` and a shadow
 * database that is closed when the engine disposes it (the stock one leaks a PGlite instance
 * per `diff`).
 */
export class ScriptSafePGlite extends PrismaPGlite {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    super(pglite);
    this.#pglite = pglite;
  }

  override async connect(): Promise<SqlDriverAdapter> {
    return withAwaitedScripts(await super.connect(), this.#pglite);
  }

  override connectToShadowDb(): Promise<SqlDriverAdapter> {
    return connectToScratchPGlite();
  }
}

/**
 * A factory for a `diff` that needs no real database: main and shadow connections both go to
 * one scratch in-memory PGlite, created on first use and dropped by `close()`. One instance, not
 * two, because creating one takes about 1.5 s and the engine connects to "main" even when only
 * the shadow database is used.
 */
export class ScratchPGliteFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = 'pglite-prisma-adapter';
  #scratch: Promise<PGlite> | undefined;

  connect(): Promise<SqlDriverAdapter> {
    return this.#connectToScratch();
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.#connectToScratch();
  }

  async close(): Promise<void> {
    const scratch = this.#scratch;
    this.#scratch = undefined;
    if (scratch) await (await scratch).close();
  }

  async #connectToScratch(): Promise<SqlDriverAdapter> {
    this.#scratch ??= PGlite.create();
    const scratch = await this.#scratch;
    return withAwaitedScripts(await new PrismaPGlite(scratch).connect(), scratch);
  }
}

/** A fresh in-memory PGlite per shadow database, closed when the engine disposes it. */
async function connectToScratchPGlite(): Promise<SqlDriverAdapter> {
  const scratch = await PGlite.create();
  const adapter = withAwaitedScripts(await new PrismaPGlite(scratch).connect(), scratch);
  adapter.dispose = () => scratch.close();
  return adapter;
}

function withAwaitedScripts(adapter: SqlDriverAdapter, pglite: PGlite): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    try {
      await pglite.exec(script);
    } catch (error) {
      throw toDriverAdapterError(error);
    }
  };
  return adapter;
}

interface PostgresErrorFields {
  code: string;
  severity: string;
  message: string;
  detail?: string;
  column?: string;
  hint?: string;
}

function isPostgresError(error: unknown): error is PostgresErrorFields {
  const e = error as Partial<PostgresErrorFields> | null;
  return typeof e?.code === 'string' && typeof e.severity === 'string' && typeof e.message === 'string';
}

/**
 * The schema engine prints a `DriverAdapterError` as "Error querying the database: <message>";
 * any other thrown value reaches it as an opaque "GenericJs" error with no message.
 */
function toDriverAdapterError(error: unknown): unknown {
  if (!isPostgresError(error)) return error;
  return new DriverAdapterError({
    kind: 'postgres',
    code: error.code,
    severity: error.severity,
    message: error.message,
    detail: error.detail,
    column: error.column,
    hint: error.hint,
  });
}

/** Opens (creating it if needed) a PGlite database persisted in `dataDir`; in memory when `dataDir` is undefined. */
export async function openPGlite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir === undefined) return PGlite.create();
  await mkdir(dataDir, { recursive: true });
  return PGlite.create(dataDir);
}

/** Throws `InvalidDatabaseUrlError` unless `url` is a `postgres://` or `postgresql://` URL. */
export function parsePostgresUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidDatabaseUrlError('DATABASE_URL is not a valid URL (expected postgresql://user@host:port/database)', {
      cause: error,
    });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InvalidDatabaseUrlError(
      `DATABASE_URL must start with postgresql:// or postgres://, got ${parsed.protocol}//`,
    );
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new InvalidDatabaseUrlError('DATABASE_URL has no host');
  }
  return parsed;
}

/** The URL with its password replaced, safe to log and print. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL at all: it may still contain a secret, so print none of it.
    return '<unparseable url>';
  }
}

/** Where a URL points, for error messages: `host:port/database`, never the password. */
export function describeTarget(url: URL): string {
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default database)';
  return `${host}:${url.port || '5432'}/${database}`;
}

/**
 * Connects once and runs `SELECT 1`, turning every way of failing into one clear
 * `DatabaseUnreachableError`: a pool would instead retry, or fail later inside a query with a
 * message that names neither the server nor the cause.
 */
export async function probePostgres(connectionString: string, timeoutMs = 5_000): Promise<void> {
  const url = parsePostgresUrl(connectionString);
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  // An error event after a failed connect must not become an uncaught exception.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new DatabaseUnreachableError(
      `cannot connect to PostgreSQL at ${describeTarget(url)}: ${describeConnectFailure(error)}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

function describeConnectFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running and listening on that port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case '3D000':
      return 'database does not exist';
    case '28P01':
    case '28000':
      return `authentication failed (${messageOf(error)})`;
    default: {
      const message = messageOf(error);
      // pg reports its own connect timeout with this text and no code.
      if (/timeout/i.test(message)) return 'connection timed out';
      return message.split('\n')[0] || String(code ?? 'unknown error');
    }
  }
}
