import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The whole runtime configuration. `loadConfig` is the only code that reads the environment: it
 * validates every variable once at start-up and fails with the complete list of problems, so an
 * operator fixes a bad deployment in one round instead of one variable per restart.
 */
export interface Config {
  nodeEnv: 'production' | 'development' | 'test';
  host: string;
  port: number;
  httpPort: number;
  /** The path under which the HTTP port also serves the collaboration WebSocket (`COLLAB_PATH`). */
  collabPath: string;
  /**
   * Where clients reach this server from outside (a reverse proxy, a TLS port), told to the editor
   * page; undefined: the page connects to the origin it was loaded from.
   */
  publicUrls: { ws: string | undefined; http: string | undefined };
  /**
   * What the schema gate does with a client that sends no `schemaVersion`: `strict` refuses it,
   * `lenient` takes it for the current schema. An older version is refused either way.
   */
  editorSchemaGate: 'strict' | 'lenient';
  /** How often the editor page's scene list reads the script's scenes again (other writers' adds, moves, deletes). */
  sceneListRefreshMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: pretty on a terminal, JSON lines otherwise (src/logger.ts, chooseLogFormat). */
  logFormat: 'auto' | 'pretty' | 'json';
  database: {
    /** PostgreSQL connection string; undefined means the embedded PGlite database under `dataDir`. */
    url: string | undefined;
    poolSize: number;
    dataDir: string;
  };
  redis: {
    url: string | undefined;
    prefix: string;
  };
  auth: {
    jwtSecret: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    tokenCacheTtlMs: number;
    /** Development only: the server issues tokens itself (never in production). */
    devTokens: boolean;
    /** Lifetime of a development token. */
    devTokenTtlSeconds: number;
    /**
     * How often every open connection's token and access are checked again: a connection stops
     * writing within this long (plus one query) of its token's `exp`, a removed collaborator or a
     * deleted user (on every instance: each checks its own connections against the database).
     */
    recheckIntervalMs: number;
    /** How long before `exp` the server asks an open connection's provider for a fresh token (at most half its lifetime). */
    tokenRefreshLeadMs: number;
  };
  limits: {
    maxUpdateBytes: number;
    updatesPerMinute: number;
    httpBodyBytes: number;
    appendBatchMax: number;
    appendLanes: number;
    appendMergeMax: number;
    /** Times a group commit retries a batch after a deadlock or serialisation failure before refusing its updates. */
    appendRetries: number;
  };
  /**
   * Flood and connection limits (extensions/FloodGuards.ts, extensions/ConnectionLimits.ts); each
   * refusal has its code in src/collab/closeReasons.ts. The defaults never refuse an editor: a page
   * may hold a 120-scene script on one socket, and a writers' room may share one office address.
   */
  floods: {
    /** Awareness updates (and queries) per document connection: sustained per minute, and at once. */
    awareness: { perMinute: number; capacity: number };
    maxAwarenessBytes: number;
    /** How long a connection may send awareness or sync requests at over twice their rate before its socket is closed. */
    closeAfterMs: number;
    /** SyncStep1 messages per document connection: sustained per minute, and at once. */
    syncStep1: { perMinute: number; capacity: number };
    /** What one socket may send before its scenes are served; Hocuspocus is given the same limits. */
    unauthenticated: { maxBytes: number; maxMessages: number; maxDocuments: number };
    maxConnectionsPerAddress: number;
    /** Reverse proxies whose `X-Forwarded-For` names the client's address (0: the socket's peer). */
    trustProxyHops: number;
    maxDocumentsPerUser: number;
    maxDocumentsPerSocket: number;
  };
  content: {
    /** What to do when stored updates replay to an empty document while REST has content. */
    corruptionPolicy: 'log' | 'reseed';
  };
  snapshots: {
    /** How often a scene's REST copy is derived from Yjs; a younger snapshot is "recent" (section 7.2). */
    intervalMs: number;
    /**
     * How a snapshot's age reads (section 8.2): younger than `freshMs` (the snapshot interval) is
     * fresh, younger than `staleMs` stale, older very stale.
     */
    freshness: { freshMs: number; staleMs: number };
  };
  /** The REST copy follower (extensions/RestCopyFollower.ts): the copy written from the live document on Hocuspocus's debounced store. */
  restCopy: {
    /** On by default, off under NODE_ENV=test (test servers write no snapshot behind a test's back). */
    follow: boolean;
    /** Hocuspocus's `debounce`: a store runs this long after the last change... */
    debounceMs: number;
    /** ...or this long after the first change it holds, however busy the scene (`maxDebounce`). */
    maxDebounceMs: number;
  };
  history: {
    /** A writer's editing session ends after this long without a row of theirs (the history panel's sessions). */
    sessionGapSeconds: number;
  };
  scenes: {
    /** A deleted scene can be restored for this long; then the retention job purges it with its log. */
    deleteRetentionMs: number;
  };
  /** Screenplay files in and out (src/interchange). */
  interchange: {
    /** Largest Fountain or FDX file an import takes; a larger one is a 413. */
    importMaxBytes: number;
    /** Most scenes one imported file may hold; more is a 413. */
    importMaxScenes: number;
  };
  /** The change feed (src/changes): `GET /api/changes`, its long poll and its event stream. */
  changes: {
    /** Change rows older than this are deleted by the retention job; an older cursor is a 410. */
    retentionMs: number;
    /** How often a waiting reader looks for changes made by other instances (this one's wake it at once). */
    pollMs: number;
  };
  /** Webhook delivery (src/webhooks), a scheduled job like the others. */
  webhooks: {
    /** At most one delivery per scene per this long, carrying the newest seq. */
    coalesceMs: number;
    /** One delivery's timeout. */
    timeoutMs: number;
    /** Failures in a row after which an endpoint is disabled. */
    maxFailures: number;
    /** Backoff after the first failure, doubled per failure up to `retryMaxMs`, with jitter. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** Deliveries in flight at once per deliverer (one per endpoint at a time). */
    concurrency: number;
    /** How often the deliverer looks for work without a wake-up from this instance; 0 keeps delivery out of the schedule. */
    pollMs: number;
    /** Allow receivers on loopback, private, link-local and unique-local addresses (off: SSRF). */
    allowPrivateAddresses: boolean;
  };
  /** Background jobs (architecture 4.6, 6.3, 6.4); an interval of 0 keeps that job out of the schedule. */
  jobs: {
    /**
     * Run the jobs on their intervals inside this server (default: yes, but no under NODE_ENV=test);
     * `npm run job -- <name>` works either way.
     */
    enabled: boolean;
    compaction: {
      intervalMs: number;
      /** Age trigger: at least this many live updates older than `minAgeMs`. */
      minUpdates: number;
      minAgeMs: number;
      /** Hot-scene trigger: this many live rows, whatever their age, bound a scene's replay. */
      hotLiveRows: number;
      maxRowsPerCompaction: number;
    };
    retention: {
      intervalMs: number;
      /** Merged rows older than this are deleted. */
      retentionMs: number;
      batchSize: number;
    };
    divergence: { intervalMs: number };
    /** Fraction of its wall time a scheduled pass may be busy; it pauses between units of work for the rest (jobs/pacing.ts). */
    dutyCycle: number;
  };
  /**
   * The worker threads that replay logs, compact, derive snapshots and compute PATCH changes off
   * the event loop serving editors (src/workers); 0 runs that work on the event loop itself.
   */
  workers: {
    threads: number;
    /** The threads' nice value (0-19): they give way to the serving event loop for a core. */
    nice: number;
  };
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(fallback);

const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive').default(fallback);

const nonNegativeInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').default(fallback);

const positiveNumber = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).positive('must be positive').finite('must be finite').default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const url = (protocols: string[]) =>
  optionalString.refine(
    (value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

/**
 * The alert thresholds of the architecture document, section 12.1, which the health routes report
 * against. Fixed by the document rather than configured; kept here so that no other module holds a
 * default of its own (a snapshot older than the lag alert also reads very stale).
 */
export const ALERT_THRESHOLDS = {
  /** Fractions of checked scenes (0.001 = 0.1%). */
  divergenceRate: { alert: 0.001, critical: 0.01 },
  snapshotLagMinutes: { alert: 30, critical: 60 },
} as const;

const SNAPSHOT_LAG_ALERT_MS = ALERT_THRESHOLDS.snapshotLagMinutes.alert * 60_000;

const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(1234),
  HTTP_PORT: port(3000),
  COLLAB_PATH: z
    .string()
    .default('/collab')
    // The provider strips trailing slashes from its URL and appends the query itself, so a path
    // with either could never match what a client sends.
    .refine((value) => value === '/' || /^(\/[A-Za-z0-9._~-]+)+$/.test(value), {
      message: 'must be a path such as /collab: a leading slash, no trailing slash, no query',
    }),
  PUBLIC_WS_URL: url(['ws:', 'wss:']),
  PUBLIC_HTTP_URL: url(['http:', 'https:']),
  EDITOR_SCHEMA_GATE: z.enum(['strict', 'lenient']).default('strict'),
  SCENE_LIST_REFRESH_MS: positiveInt(8000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_SIZE: positiveInt(10),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: url(['redis:', 'rediss:']),
  REDIS_PREFIX: z.string().min(1).default('writersroom'),
  AUTH_JWT_SECRET: optionalString,
  AUTH_JWT_ISSUER: optionalString,
  AUTH_JWT_AUDIENCE: optionalString,
  AUTH_TOKEN_CACHE_TTL_MS: positiveInt(60_000),
  AUTH_DEV_TOKENS: booleanFlag(true),
  AUTH_DEV_TOKEN_TTL_SECONDS: positiveInt(12 * 3600),
  AUTH_RECHECK_INTERVAL_MS: positiveInt(2000),
  AUTH_TOKEN_REFRESH_LEAD_MS: nonNegativeInt(60_000),
  MAX_UPDATE_BYTES: positiveInt(1024 * 1024),
  RATE_LIMIT_UPDATES_PER_MINUTE: positiveInt(6000),
  // A cursor moves at most once a frame, and a 240 Hz display is never over the rate. The burst is
  // small: each awareness update Hocuspocus relays costs it a scratch document and a send to every
  // editor of the scene, and a flooder gets the whole burst at every reconnect (in the flood
  // scenario a burst of 240 raised the editors' p99 from about 10 ms to 65 ms; of 20 to 40, to
  // 10-20 ms, within the run-to-run noise).
  RATE_LIMIT_AWARENESS_PER_MINUTE: positiveInt(240 * 60),
  RATE_LIMIT_AWARENESS_BURST: positiveInt(20),
  // An editor's state is a name, a colour and a cursor (a few hundred bytes); an update that also
  // removes departed editors adds about ten bytes for each.
  MAX_AWARENESS_BYTES: positiveInt(16 * 1024),
  // A provider asks once per (re)connect.
  RATE_LIMIT_SYNC_STEP1_PER_MINUTE: positiveInt(60),
  RATE_LIMIT_SYNC_STEP1_BURST: positiveInt(10),
  // Over the rate a message is dropped; a socket is closed only after sending at over twice the rate
  // for this long. A stalled server reads seconds of an editor's caret moves at once, and must not
  // take them for a flood (src/guards/floodLimits.ts, MessageAllowance).
  FLOOD_CLOSE_AFTER_SECONDS: positiveInt(10),
  // Hocuspocus's own defaults, except more scenes (a page opening a 120-scene script at once) and
  // the messages their providers send before the answer (three each, and keystrokes meanwhile).
  UNAUTHENTICATED_QUEUE_BYTES: positiveInt(5 * 1024 * 1024),
  UNAUTHENTICATED_QUEUE_MESSAGES: positiveInt(4000),
  UNAUTHENTICATED_DOCUMENTS: positiveInt(500),
  MAX_CONNECTIONS_PER_ADDRESS: positiveInt(1000),
  TRUST_PROXY_HOPS: nonNegativeInt(0),
  // Several tabs of a 120-scene script, on several devices.
  MAX_DOCUMENTS_PER_USER: positiveInt(2000),
  MAX_DOCUMENTS_PER_SOCKET: positiveInt(500),
  HTTP_BODY_LIMIT_BYTES: positiveInt(2 * 1024 * 1024),
  // A feature film's FDX is 200-400 KB: 2 MiB is about a thousand pages. Parsing runs on the
  // serving thread at up to about 1 s per MiB for the worst files (src/interchange/README.md).
  IMPORT_MAX_BYTES: positiveInt(2 * 1024 * 1024),
  IMPORT_MAX_SCENES: positiveInt(2000),
  APPEND_BATCH_MAX: positiveInt(1000),
  APPEND_LANES: positiveInt(2),
  APPEND_MERGE_MAX: positiveInt(64),
  APPEND_RETRIES: nonNegativeInt(2),
  CORRUPTION_POLICY: z.enum(['log', 'reseed']).default('log'),
  SNAPSHOT_INTERVAL_MS: positiveInt(5 * 60_000),
  HISTORY_SESSION_GAP_SECONDS: positiveInt(300),
  REST_COPY_FOLLOW: z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).optional(),
  REST_COPY_DEBOUNCE_MS: positiveInt(2000),
  REST_COPY_MAX_DEBOUNCE_MS: positiveInt(10_000),
  // Unset: on, except under NODE_ENV=test (test servers run no job behind a test's back).
  JOBS_ENABLED: z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).optional(),
  COMPACTION_INTERVAL_MS: nonNegativeInt(10 * 60_000),
  COMPACTION_MIN_UPDATES: positiveInt(100),
  COMPACTION_MIN_AGE_HOURS: positiveNumber(24),
  COMPACTION_HOT_LIVE_ROWS: positiveInt(1000),
  COMPACTION_MAX_ROWS: positiveInt(10_000),
  RETENTION_DAYS: positiveNumber(30),
  RETENTION_INTERVAL_MS: nonNegativeInt(6 * 60 * 60_000),
  RETENTION_BATCH_SIZE: positiveInt(1000),
  SCENE_DELETE_RETENTION_DAYS: positiveNumber(30),
  DIVERGENCE_INTERVAL_MS: nonNegativeInt(15 * 60_000),
  CHANGE_FEED_RETENTION_DAYS: positiveNumber(30),
  CHANGE_FEED_POLL_MS: positiveInt(500),
  WEBHOOK_COALESCE_MS: nonNegativeInt(2000),
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  WEBHOOK_MAX_FAILURES: positiveInt(10),
  WEBHOOK_RETRY_BASE_MS: positiveInt(1000),
  WEBHOOK_RETRY_MAX_MS: positiveInt(5 * 60_000),
  WEBHOOK_CONCURRENCY: positiveInt(4),
  WEBHOOK_POLL_MS: nonNegativeInt(250),
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: booleanFlag(false),
  // A scheduled pass works a quarter of its wall time and pauses the rest (jobs/pacing.ts): on a
  // 2-core machine a pass at full speed queued the editors' commits and broadcasts behind it. 1 turns
  // the pauses off.
  JOBS_DUTY_CYCLE: z.coerce.number({ error: 'must be a number' }).gt(0, 'must be above 0').max(1, 'must be 1 or less').default(0.25),
  // One core is left to the event loop (and PostgreSQL, when it shares the machine); past four,
  // the jobs and replays of one instance rarely keep more threads busy.
  WORKER_THREADS: nonNegativeInt(Math.max(1, Math.min(4, availableParallelism() - 1))),
  // The worker threads' nice value (Linux: per thread), so a replay gives way to the serving loop
  // when both want a core. 0 keeps the process's priority.
  WORKER_THREAD_NICE: nonNegativeInt(10).pipe(z.number().max(19, 'must be 19 or less')),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
});

type Env = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  // The checks across variables run too, on the variables that parsed, so that one start lists
  // every problem. A variable that did not parse reads as its default below, and every check that
  // involves it is skipped: its default would only add a problem the operator does not have.
  const invalid = new Set<string>(parsed.success ? [] : parsed.error.issues.map((issue) => String(issue.path[0])));
  const usable = parsed.success ? parsed : envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([name]) => !invalid.has(name))));
  // Only a variable without a default can fail again; its problem is listed already.
  if (!usable.success) throw new ConfigError(problems);
  const e: Env = usable.data;
  const valid = (...names: (keyof Env)[]) => names.every((name) => !invalid.has(name));
  if (valid('NODE_ENV', 'AUTH_JWT_SECRET') && e.NODE_ENV === 'production' && !e.AUTH_JWT_SECRET) {
    problems.push('AUTH_JWT_SECRET: required when NODE_ENV=production');
  }
  if (valid('AUTH_JWT_SECRET') && e.AUTH_JWT_SECRET && e.AUTH_JWT_SECRET.length < 32) {
    problems.push('AUTH_JWT_SECRET: must be at least 32 characters (HS256 needs a 256-bit key)');
  }
  if (valid('PORT', 'HTTP_PORT') && e.PORT !== 0 && e.PORT === e.HTTP_PORT) {
    problems.push(`PORT and HTTP_PORT: must differ (both are ${e.PORT})`);
  }
  // The page appends `?schemaVersion=` to the WebSocket URL, and both URLs are bases, not pages.
  for (const [name, value] of [['PUBLIC_WS_URL', e.PUBLIC_WS_URL], ['PUBLIC_HTTP_URL', e.PUBLIC_HTTP_URL]] as const) {
    if (valid(name) && value !== undefined && /[?#]/.test(value)) problems.push(`${name}: must not carry a query or a fragment (${value})`);
  }
  if (valid('APPEND_LANES', 'DATABASE_POOL_SIZE') && e.APPEND_LANES >= e.DATABASE_POOL_SIZE) {
    problems.push(`APPEND_LANES: must be less than DATABASE_POOL_SIZE (${e.DATABASE_POOL_SIZE}); each lane holds a connection while it writes`);
  }
  if (valid('COMPACTION_HOT_LIVE_ROWS') && e.COMPACTION_HOT_LIVE_ROWS < 2) problems.push('COMPACTION_HOT_LIVE_ROWS: must be at least 2 (one row is already compact)');
  if (valid('COMPACTION_MAX_ROWS') && e.COMPACTION_MAX_ROWS < 2) problems.push('COMPACTION_MAX_ROWS: must be at least 2 (a compaction merges two rows or more)');
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    httpPort: e.HTTP_PORT,
    collabPath: e.COLLAB_PATH,
    publicUrls: { ws: e.PUBLIC_WS_URL, http: e.PUBLIC_HTTP_URL },
    editorSchemaGate: e.EDITOR_SCHEMA_GATE,
    sceneListRefreshMs: e.SCENE_LIST_REFRESH_MS,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, dataDir: path.resolve(e.DATA_DIR) },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET,
      issuer: e.AUTH_JWT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE,
      tokenCacheTtlMs: e.AUTH_TOKEN_CACHE_TTL_MS,
      devTokens: e.NODE_ENV !== 'production' && e.AUTH_DEV_TOKENS && !e.AUTH_JWT_SECRET,
      devTokenTtlSeconds: e.AUTH_DEV_TOKEN_TTL_SECONDS,
      recheckIntervalMs: e.AUTH_RECHECK_INTERVAL_MS,
      tokenRefreshLeadMs: e.AUTH_TOKEN_REFRESH_LEAD_MS,
    },
    limits: {
      maxUpdateBytes: e.MAX_UPDATE_BYTES,
      updatesPerMinute: e.RATE_LIMIT_UPDATES_PER_MINUTE,
      httpBodyBytes: e.HTTP_BODY_LIMIT_BYTES,
      appendBatchMax: e.APPEND_BATCH_MAX,
      appendLanes: e.APPEND_LANES,
      appendMergeMax: e.APPEND_MERGE_MAX,
      appendRetries: e.APPEND_RETRIES,
    },
    floods: {
      awareness: { perMinute: e.RATE_LIMIT_AWARENESS_PER_MINUTE, capacity: e.RATE_LIMIT_AWARENESS_BURST },
      maxAwarenessBytes: e.MAX_AWARENESS_BYTES,
      closeAfterMs: e.FLOOD_CLOSE_AFTER_SECONDS * 1000,
      syncStep1: { perMinute: e.RATE_LIMIT_SYNC_STEP1_PER_MINUTE, capacity: e.RATE_LIMIT_SYNC_STEP1_BURST },
      unauthenticated: { maxBytes: e.UNAUTHENTICATED_QUEUE_BYTES, maxMessages: e.UNAUTHENTICATED_QUEUE_MESSAGES, maxDocuments: e.UNAUTHENTICATED_DOCUMENTS },
      maxConnectionsPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
      trustProxyHops: e.TRUST_PROXY_HOPS,
      maxDocumentsPerUser: e.MAX_DOCUMENTS_PER_USER,
      maxDocumentsPerSocket: e.MAX_DOCUMENTS_PER_SOCKET,
    },
    content: { corruptionPolicy: e.CORRUPTION_POLICY },
    snapshots: {
      intervalMs: e.SNAPSHOT_INTERVAL_MS,
      // Fresh until the snapshot job is due to renew it; very stale from the snapshot-lag alert of
      // section 12.1 on (30 minutes), or from the interval when that is longer.
      freshness: { freshMs: e.SNAPSHOT_INTERVAL_MS, staleMs: Math.max(SNAPSHOT_LAG_ALERT_MS, e.SNAPSHOT_INTERVAL_MS) },
    },
    history: { sessionGapSeconds: e.HISTORY_SESSION_GAP_SECONDS },
    interchange: { importMaxBytes: e.IMPORT_MAX_BYTES, importMaxScenes: e.IMPORT_MAX_SCENES },
    scenes: { deleteRetentionMs: Math.round(e.SCENE_DELETE_RETENTION_DAYS * 24 * 60 * 60 * 1000) },
    restCopy: {
      follow: e.REST_COPY_FOLLOW === undefined || e.REST_COPY_FOLLOW === '' ? e.NODE_ENV !== 'test' : ['true', '1', 'yes'].includes(e.REST_COPY_FOLLOW),
      debounceMs: e.REST_COPY_DEBOUNCE_MS,
      maxDebounceMs: e.REST_COPY_MAX_DEBOUNCE_MS,
    },
    jobs: {
      enabled: e.JOBS_ENABLED === undefined || e.JOBS_ENABLED === '' ? e.NODE_ENV !== 'test' : ['true', '1', 'yes'].includes(e.JOBS_ENABLED),
      compaction: {
        intervalMs: e.COMPACTION_INTERVAL_MS,
        minUpdates: e.COMPACTION_MIN_UPDATES,
        minAgeMs: Math.round(e.COMPACTION_MIN_AGE_HOURS * 60 * 60 * 1000),
        hotLiveRows: e.COMPACTION_HOT_LIVE_ROWS,
        maxRowsPerCompaction: e.COMPACTION_MAX_ROWS,
      },
      retention: {
        intervalMs: e.RETENTION_INTERVAL_MS,
        retentionMs: Math.round(e.RETENTION_DAYS * 24 * 60 * 60 * 1000),
        batchSize: e.RETENTION_BATCH_SIZE,
      },
      divergence: { intervalMs: e.DIVERGENCE_INTERVAL_MS },
      dutyCycle: e.JOBS_DUTY_CYCLE,
    },
    changes: { retentionMs: Math.round(e.CHANGE_FEED_RETENTION_DAYS * 24 * 60 * 60 * 1000), pollMs: e.CHANGE_FEED_POLL_MS },
    webhooks: {
      coalesceMs: e.WEBHOOK_COALESCE_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxFailures: e.WEBHOOK_MAX_FAILURES,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: Math.max(e.WEBHOOK_RETRY_MAX_MS, e.WEBHOOK_RETRY_BASE_MS),
      concurrency: e.WEBHOOK_CONCURRENCY,
      pollMs: e.WEBHOOK_POLL_MS,
      allowPrivateAddresses: e.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    },
    workers: { threads: e.WORKER_THREADS, nice: e.WORKER_THREAD_NICE },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
