/**
 * The servers this project is compared with, run as their own process by the benchmark:
 *   floor     plain Hocuspocus, no persistence (the ceiling any persistent server can reach)
 *   database  Hocuspocus with @hocuspocus/extension-database storing the whole document state in
 *             PostgreSQL on its default debounce, the common setup (as in Outline)
 * Usage: tsx test/bench/comparisonServer.ts <floor|database> <port> [postgres-url]
 * With `REDIS_URL` (and `REDIS_PREFIX`, as this project's server reads them) the server also runs
 * @hocuspocus/extension-redis, so several of them share documents as several of ours do.
 * Prints one JSON line `{"listening": port}` when ready.
 */
import { Database } from '@hocuspocus/extension-database';
import { Redis } from '@hocuspocus/extension-redis';
import { Server, type Extension } from '@hocuspocus/server';
import pg from 'pg';

const [kind, portArg, databaseUrl] = process.argv.slice(2);
const port = Number(portArg);
if ((kind !== 'floor' && kind !== 'database') || !Number.isInteger(port)) {
  process.stderr.write('usage: comparisonServer.ts <floor|database> <port> [postgres-url]\n');
  process.exit(2);
}

const extensions: Extension[] = [];
if (kind === 'database') {
  if (!databaseUrl) {
    process.stderr.write('the database server needs a PostgreSQL URL\n');
    process.exit(2);
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_documents (name text PRIMARY KEY, data bytea NOT NULL)`);
  extensions.push(
    new Database({
      fetch: async ({ documentName }) => {
        const { rows } = await pool.query('SELECT data FROM bench_documents WHERE name = $1', [documentName]);
        return rows[0] ? new Uint8Array(rows[0].data) : null;
      },
      store: async ({ documentName, state }) => {
        await pool.query(
          'INSERT INTO bench_documents (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data',
          [documentName, state],
        );
        process.stdout.write(`${JSON.stringify({ stored: documentName, at: Date.now() })}\n`);
      },
    }),
  );
}

if (process.env.REDIS_URL) {
  const redisUrl = new URL(process.env.REDIS_URL);
  extensions.push(
    new Redis({
      host: redisUrl.hostname,
      port: Number(redisUrl.port || 6379),
      prefix: process.env.REDIS_PREFIX ?? 'hocuspocus',
      options: { db: Number(redisUrl.pathname.slice(1) || 0) },
    }),
  );
}

// The same limit of documents a socket may ask for before they are served as this project's server
// (UNAUTHENTICATED_DOCUMENTS): with Hocuspocus's default of 100, a client opening a 120-scene script
// on one socket is closed and reconnects.
const server = new Server({ port, address: '127.0.0.1', quiet: true, stopOnSignals: true, extensions, maxPendingDocuments: 500 });
await server.listen();
process.stdout.write(`${JSON.stringify({ listening: server.address.port })}\n`);
