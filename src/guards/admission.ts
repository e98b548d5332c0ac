import { PayloadMap } from '../collab/intake.ts';
import { reasonOf, UPDATE_REFUSALS, type UpdateRefusalCode } from '../collab/closeReasons.ts';
import { fullBucket, takeToken, type RateLimit, type TokenBucket } from './rateLimit.ts';
import { inspectUpdate, type UpdateMeta } from './updateValidation.ts';

/** Why the guards refuse an update: the close reason's code, and the label of `updates_refused_total`. */
export const GUARD_REFUSALS = {
  'too-large': { reason: 'update-too-large', metric: 'too_large' },
  malformed: { reason: 'malformed-update', metric: 'malformed' },
  'rate-limited': { reason: 'rate-limited', metric: 'rate_limited' },
} as const satisfies Record<string, { reason: UpdateRefusalCode; metric: string }>;

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
    const code = GUARD_REFUSALS[kind].reason;
    const reason = reasonOf(code, detail);
    super(reason);
    this.name = 'UpdateRefused';
    this.kind = kind;
    this.code = UPDATE_REFUSALS[code].closeCode;
    this.reason = reason;
  }
}

/** The decision on a content message, and for an admitted one its meta. */
export type Verdict = { refusal: UpdateRefused; meta: null } | { refusal: null; meta: UpdateMeta };

export interface UpdateAdmissionConfiguration {
  maxUpdateBytes: number;
  /** Sustained updates per minute per connection (architecture document 13.2). */
  updatesPerMinute: number;
  /** Updates a connection may send at once; defaults to one minute's worth. */
  burst: number | undefined;
  now: () => number;
}

const defaults = {
  burst: undefined,
  now: Date.now,
} satisfies Partial<UpdateAdmissionConfiguration>;

/**
 * Whether a client's content message (SyncStep2 or Update) may be stored: a per-connection rate
 * limit, the size limit and a full decode. One verdict per message, shared by the two extensions
 * that need it: the append log asks when the frame arrives, so it can start writing before
 * Hocuspocus gets to the message, and the update guards enforce the verdict in `beforeSync`. A
 * message is decided exactly once, so it never counts against the rate twice.
 *
 * Messages are named by their payload's bytes (`PayloadMap`): both sightings see views on the same
 * frame.
 */
export class UpdateAdmission {
  private readonly configuration: UpdateAdmissionConfiguration;
  private readonly limit: RateLimit;
  /** Per document connection; dies with the connection. */
  private readonly buckets = new WeakMap<object, TokenBucket>();
  /** Verdicts reached when a frame arrived, for `beforeSync` to enforce. */
  private readonly onArrival = new PayloadMap<Verdict>();
  /** Metas of messages admitted in `beforeSync` rather than on arrival, until the append log asks. */
  private readonly admittedLate = new PayloadMap<UpdateMeta>();

  constructor(configuration: Partial<UpdateAdmissionConfiguration> & Omit<UpdateAdmissionConfiguration, keyof typeof defaults>) {
    this.configuration = { ...defaults, ...configuration };
    const { updatesPerMinute, burst } = this.configuration;
    this.limit = { perMinute: updatesPerMinute, capacity: Math.max(1, burst ?? updatesPerMinute) };
  }

  /**
   * Decides a message when its frame arrives and keeps the verdict for `beforeSync`: the update's
   * meta when it may be stored, null when it is refused.
   */
  admitOnArrival(connection: object, payload: Uint8Array): UpdateMeta | null {
    const verdict = this.decide(connection, payload);
    this.onArrival.set(payload, verdict);
    return verdict.meta;
  }

  /**
   * The verdict `beforeSync` enforces: the one reached when the frame arrived, or, for a message
   * that arrived before its connection was set up, one reached now. `early` says which. The meta of
   * a message admitted now is kept for `metaOf`, unless the connection is read-only (its updates
   * are never stored, so the append log never asks).
   */
  verdict(connection: { readOnly: boolean }, payload: Uint8Array): Verdict & { early: boolean } {
    const early = this.onArrival.take(payload);
    if (early) return { ...early, early: true };
    const verdict = this.decide(connection, payload);
    if (verdict.meta && !connection.readOnly) this.admittedLate.set(payload, verdict.meta);
    return { ...verdict, early: false };
  }

  /**
   * The meta of a message admitted in `beforeSync` rather than on arrival, once: the append log's
   * containment check reads it instead of decoding the update again.
   */
  metaOf(payload: Uint8Array): UpdateMeta | undefined {
    return this.admittedLate.take(payload);
  }

  /** The verdict, and for an admitted message its meta (read in the same decode). */
  private decide(connection: object, payload: Uint8Array): Verdict {
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
}
