import type { beforeSyncPayload, Connection, Extension } from '@hocuspocus/server';
import { PayloadMap, SYNC_STEP_2, SYNC_UPDATE } from '../src/collab/intake.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import { fullBucket, takeToken, type RateLimit, type TokenBucket } from '../src/guards/rateLimit.ts';
import { inspectUpdate, type UpdateMeta } from '../src/guards/updateValidation.ts';
import { isEmptyUpdate, updateAddsNothing } from '../src/log/containment.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface UpdateGuardsConfiguration {
  maxUpdateBytes: number;
  /** Sustained updates per minute per connection (architecture document 13.2). */
  updatesPerMinute: number;
  /** Updates a connection may send at once; defaults to one minute's worth. */
  burst: number | undefined;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

const defaults = {
  burst: undefined,
  now: Date.now,
} satisfies Partial<UpdateGuardsConfiguration>;

/**
 * How each refusal ends, and why. Every refusal throws, which makes Hocuspocus drop the message
 * unapplied, unbroadcast and unacknowledged, and close that one document connection; nothing else
 * on the scene is touched. The difference is what the editor does next:
 *
 * - `update-too-large`, `malformed-update`: the same content would be refused again, so the socket
 *   stays open and the provider is not made to reconnect (a reconnect would resend the content in
 *   its SyncStep2 and loop). The provider receives a close message whose reason it reports through
 *   `onClose({ event })`; the editor should show it and offer a reload.
 * - `rate-limited`: the socket is closed with 4429. The provider reconnects after its delay and its
 *   sync step sends everything it has as one update, so an honest burst heals by itself and a
 *   runaway client is slowed to one attempt per reconnect delay.
 */
export const GUARD_REFUSALS = {
  'too-large': { code: 4413, prefix: 'update-too-large', metric: 'too_large' },
  malformed: { code: 4400, prefix: 'malformed-update', metric: 'malformed' },
  'rate-limited': { code: 4429, prefix: 'rate-limited', metric: 'rate_limited' },
} as const;

export type GuardRefusalKind = keyof typeof GUARD_REFUSALS;

/**
 * Thrown from `beforeSync`. Hocuspocus reads `code` and `reason` from what a hook throws (its
 * CloseEvent shape), so `code` is the numeric close code here; `kind` is the stable name.
 */
export class UpdateRefused extends Error {
  readonly kind: GuardRefusalKind;
  readonly code: number;
  readonly reason: string;

  constructor(kind: GuardRefusalKind, detail: string) {
    const reason = `${GUARD_REFUSALS[kind].prefix}: ${detail}`;
    super(reason);
    this.name = 'UpdateRefused';
    this.kind = kind;
    this.code = GUARD_REFUSALS[kind].code;
    this.reason = reason;
  }
}

/** The guards' decision on a content message, and for an admitted one its meta. */
type Verdict = { refusal: UpdateRefused; meta: null } | { refusal: null; meta: UpdateMeta };

/**
 * Checks every content-carrying message (SyncStep2 and Update) before anything else sees it: size,
 * a per-connection rate limit, and a full decode, so a malformed update is never appended to the
 * log nor applied. Read-only connections are checked the same way, and their content is counted as
 * refused (`read_only`) and left to Hocuspocus, which never applies it.
 */
export class UpdateGuards implements Extension {
  extensionName = 'UpdateGuards';

  // Above AppendLogPersistence (1000), whose beforeSync appends the update: a refused update must
  // be stopped before it is stored.
  priority = 1100;

  private readonly configuration: UpdateGuardsConfiguration;
  private readonly limit: RateLimit;
  /** Per document connection; dies with the connection. */
  private readonly buckets = new WeakMap<Connection, TokenBucket>();
  /** Verdicts reached when a frame arrived, for `beforeSync` to enforce. */
  private readonly verdicts = new PayloadMap<Verdict>();

  /** Metas of messages admitted in `beforeSync` rather than on arrival, until the append log asks. */
  private readonly admittedLate = new PayloadMap<UpdateMeta>();

  constructor(configuration: Partial<UpdateGuardsConfiguration> & Omit<UpdateGuardsConfiguration, keyof typeof defaults>) {
    this.configuration = { ...defaults, ...configuration };
    const { updatesPerMinute, burst } = this.configuration;
    this.limit = { perMinute: updatesPerMinute, capacity: Math.max(1, burst ?? updatesPerMinute) };
  }

  /**
   * Decides whether a content message may be stored: rate limit, size and validity; returns the
   * update's meta when it may, null when it is refused. Called for
   * every content message exactly once, either when its frame arrives (the append log asks, so it
   * can start writing before Hocuspocus gets to the message) or else from `beforeSync`; the verdict
   * is kept for `beforeSync` to enforce, so a message is never counted against the rate twice.
   */
  admit(connection: Connection<ConnectionContext>, payload: Uint8Array): UpdateMeta | null {
    const verdict = this.check(connection, payload);
    this.verdicts.set(payload, verdict);
    return verdict.meta;
  }

  /**
   * The meta of a message admitted in `beforeSync` (one that arrived before its connection was set
   * up), once: the append log's containment check reads it instead of decoding the update again.
   */
  metaOf(payload: Uint8Array): UpdateMeta | undefined {
    return this.admittedLate.take(payload);
  }

  async beforeSync({ connection, document, documentName, type, payload }: beforeSyncPayload<ConnectionContext>): Promise<void> {
    if (type !== SYNC_STEP_2 && type !== SYNC_UPDATE) return;
    const { metrics, logger } = this.configuration;
    const early = this.verdicts.take(payload);
    const { refusal, meta } = early ?? this.check(connection, payload);
    if (refusal) {
      this.refuse(refusal, connection, documentName);
      if (refusal.kind === 'rate-limited') connection.webSocket.close(refusal.code, refusal.reason);
      throw refusal;
    }

    if (!connection.readOnly) {
      // The append log's containment check reads it from here rather than decoding the update again.
      if (!early) this.admittedLate.set(payload, meta);
      return;
    }
    if (isEmptyUpdate(payload) || (type === SYNC_STEP_2 && updateAddsNothing(document, payload, meta))) return;
    metrics.updatesRefused.inc({ reason: 'read_only' });
    logger.debug({ sceneId: documentName, socketId: connection.socketId }, 'update from a read-only connection not applied');
  }

  /** The verdict on a message, and for an admitted one its meta (read in the same decode). */
  private check(connection: Connection<ConnectionContext>, payload: Uint8Array): Verdict {
    const { maxUpdateBytes, now } = this.configuration;
    const time = now();
    const taken = takeToken(this.buckets.get(connection) ?? fullBucket(this.limit, time), this.limit, time);
    this.buckets.set(connection, taken.bucket);
    if (!taken.allowed) {
      const refusal = new UpdateRefused('rate-limited', `more than ${this.limit.perMinute} updates per minute; reconnecting sends your changes again`);
      return { refusal, meta: null };
    }
    const { problem, meta } = inspectUpdate(payload, maxUpdateBytes);
    return problem ? { refusal: new UpdateRefused(problem.kind, problem.detail), meta: null } : { refusal: null, meta };
  }

  private refuse(refusal: UpdateRefused, connection: Connection<ConnectionContext>, sceneId: string): void {
    this.configuration.metrics.updatesRefused.inc({ reason: GUARD_REFUSALS[refusal.kind].metric });
    this.configuration.logger.warn(
      { sceneId, socketId: connection.socketId, userId: connection.context?.userId, reason: refusal.reason },
      'client update refused',
    );
  }
}
