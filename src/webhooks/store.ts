// The webhook tables (`webhook_endpoints`, `webhook_scene_states`) and every statement on them:
// the routes' (register, list, re-enable, redeliver) and the deliverer's (lease, fold, deliver).
import { commitWithoutFlushWait, type SqlExecutor } from '../db/sql.ts';
import type { ChangeKind, ChangePosition } from '../log/changes.ts';
import type { SceneDeliveryState } from './fold.ts';

type Numeric = bigint | string | number;

export interface WebhookEndpoint {
  endpointId: string;
  scriptId: string;
  url: string;
  eventKinds: ChangeKind[];
  createdBy: string | null;
  createdAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
  consecutiveFailures: number;
  nextAttemptAt: Date;
  lastError: string | null;
  lastSuccessAt: Date | null;
  cursor: ChangePosition;
  /** Changes folded and not delivered yet. */
  pendingChanges: number;
}

/** An endpoint as the deliverer sees it on one tick. */
export interface DeliveryCandidate extends WebhookEndpoint {
  secret: string;
  /** Past its backoff. */
  ready: boolean;
  /** Another deliverer holds its lease. */
  leasedElsewhere: boolean;
  /** A scene's coalescing window has passed. */
  due: boolean;
}

interface EndpointRow {
  endpoint_id: string;
  script_id: string;
  url: string;
  secret: string;
  event_kinds: string[] | null;
  created_by: string | null;
  created_at: Date;
  disabled_at: Date | null;
  disabled_reason: string | null;
  consecutive_failures: number;
  next_attempt_at: Date;
  last_error: string | null;
  last_success_at: Date | null;
  cursor_xid: Numeric;
  cursor_change_id: Numeric;
  pending_changes: Numeric | null;
}

const ENDPOINT_COLUMNS = `e.endpoint_id, e.script_id, e.url, e.secret, e.event_kinds, e.created_by, e.created_at, e.disabled_at, e.disabled_reason,
  e.consecutive_failures, e.next_attempt_at, e.last_error, e.last_success_at, e.cursor_xid, e.cursor_change_id,
  (SELECT COALESCE(sum(s.pending_changes), 0) FROM webhook_scene_states s WHERE s.endpoint_id = e.endpoint_id AND s.pending_seq IS NOT NULL) AS pending_changes`;

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    endpointId: row.endpoint_id,
    scriptId: row.script_id,
    url: row.url,
    eventKinds: (row.event_kinds ?? []) as ChangeKind[],
    createdBy: row.created_by,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    consecutiveFailures: Number(row.consecutive_failures),
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    lastSuccessAt: row.last_success_at,
    cursor: { xid: BigInt(row.cursor_xid), changeId: BigInt(row.cursor_change_id) },
    pendingChanges: Number(row.pending_changes ?? 0),
  };
}

interface StateRow {
  scene_id: string;
  pending_seq: Numeric | null;
  pending_kinds: string[] | null;
  pending_created_by: string | null;
  pending_first_at: Date | null;
  pending_last_at: Date | null;
  pending_changes: number;
  pending_version: number;
  lifecycle: number;
  deleted: boolean;
  delivered_seq: Numeric | null;
}

const STATE_COLUMNS =
  'scene_id, pending_seq, pending_kinds, pending_created_by, pending_first_at, pending_last_at, pending_changes, pending_version, lifecycle, deleted, delivered_seq';

function toState(row: StateRow): SceneDeliveryState {
  return {
    sceneId: row.scene_id,
    pendingSeq: row.pending_seq === null ? null : BigInt(row.pending_seq),
    pendingKinds: (row.pending_kinds ?? []) as ChangeKind[],
    pendingCreatedBy: row.pending_created_by,
    pendingFirstAt: row.pending_first_at,
    pendingLastAt: row.pending_last_at,
    pendingChanges: Number(row.pending_changes),
    pendingVersion: Number(row.pending_version),
    lifecycle: Number(row.lifecycle),
    deleted: row.deleted,
    deliveredSeq: row.delivered_seq === null ? null : BigInt(row.delivered_seq),
  };
}

/** The deliverer holds the endpoint's lease: every write of delivery state is fenced by it. */
const LEASED = 'EXISTS (SELECT 1 FROM webhook_endpoints l WHERE l.endpoint_id = $1::uuid AND l.lease_owner = $2)';

export class WebhookStore {
  constructor(private readonly sql: SqlExecutor) {}

  // ---- the routes ----

  /** A new endpoint; it receives the changes after `from` (the feed's tip when it is registered). */
  async create(input: { scriptId: string; url: string; secret: string; eventKinds: readonly ChangeKind[]; createdBy: string | null; from: ChangePosition }): Promise<WebhookEndpoint> {
    const [row] = await this.sql.query<EndpointRow>(
      'webhook_create',
      `WITH e AS (
         INSERT INTO webhook_endpoints (script_id, url, secret, event_kinds, created_by, cursor_xid, cursor_change_id)
         VALUES ($1::uuid, $2, $3, $4::text[], $5::uuid, $6::bigint, $7::bigint)
         RETURNING *
       )
       SELECT e.*, 0 AS pending_changes FROM e`,
      [input.scriptId, input.url, input.secret, input.eventKinds, input.createdBy, input.from.xid.toString(), input.from.changeId.toString()],
    );
    return toEndpoint(row!);
  }

  async list(scriptId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.sql.query<EndpointRow>(
      'webhook_list',
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.script_id = $1::uuid ORDER BY e.created_at, e.endpoint_id`,
      [scriptId],
    );
    return rows.map(toEndpoint);
  }

  async find(scriptId: string, endpointId: string): Promise<WebhookEndpoint | null> {
    const [row] = await this.sql.query<EndpointRow>(
      'webhook_find',
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.script_id = $1::uuid AND e.endpoint_id = $2::uuid`,
      [scriptId, endpointId],
    );
    return row ? toEndpoint(row) : null;
  }

  async delete(scriptId: string, endpointId: string): Promise<boolean> {
    const rows = await this.sql.query<{ endpoint_id: string }>(
      'webhook_delete',
      'DELETE FROM webhook_endpoints WHERE script_id = $1::uuid AND endpoint_id = $2::uuid RETURNING endpoint_id',
      [scriptId, endpointId],
    );
    return rows.length > 0;
  }

  /** Enabling clears the failures and the backoff: the next tick delivers what waited meanwhile. */
  async setEnabled(scriptId: string, endpointId: string, enabled: boolean): Promise<boolean> {
    const rows = await this.sql.query<{ endpoint_id: string }>(
      'webhook_set_enabled',
      `UPDATE webhook_endpoints
       SET disabled_at = CASE WHEN $3::boolean THEN NULL ELSE COALESCE(disabled_at, now()) END,
           disabled_reason = CASE WHEN $3::boolean THEN NULL ELSE COALESCE(disabled_reason, 'disabled by its owner') END,
           consecutive_failures = CASE WHEN $3::boolean THEN 0 ELSE consecutive_failures END,
           next_attempt_at = CASE WHEN $3::boolean THEN now() ELSE next_attempt_at END
       WHERE script_id = $1::uuid AND endpoint_id = $2::uuid
       RETURNING endpoint_id`,
      [scriptId, endpointId, enabled],
    );
    return rows.length > 0;
  }

  /**
   * Delivers again every change after `from`: the cursor goes back, and what each scene had
   * delivered is forgotten so the changes fold in again (an unchanged scene gets its old event id).
   */
  async redeliverFrom(scriptId: string, endpointId: string, from: ChangePosition): Promise<boolean> {
    const rows = await this.sql.query<{ endpoint_id: string }>(
      'webhook_redeliver_from',
      `WITH moved AS (
         UPDATE webhook_endpoints SET cursor_xid = $3::bigint, cursor_change_id = $4::bigint
         WHERE script_id = $1::uuid AND endpoint_id = $2::uuid
         RETURNING endpoint_id
       ),
       forgotten AS (
         UPDATE webhook_scene_states s SET delivered_seq = NULL, pending_version = pending_version + 1
         FROM moved WHERE s.endpoint_id = moved.endpoint_id
       )
       SELECT endpoint_id FROM moved`,
      [scriptId, endpointId, from.xid.toString(), from.changeId.toString()],
    );
    return rows.length > 0;
  }

  /**
   * Delivers a scene again now, with its current content (the same event id when nothing changed
   * since). Only a scene this endpoint has delivered or is delivering: an id naming another
   * script's scene finds no row, so it can never make the endpoint send that scene.
   */
  async redeliverScene(endpointId: string, sceneId: string, seq: bigint, coalesceMs: number): Promise<boolean> {
    const rows = await this.sql.query<{ scene_id: string }>(
      'webhook_redeliver_scene',
      `UPDATE webhook_scene_states
       SET pending_seq = GREATEST(COALESCE(pending_seq, 0), COALESCE(delivered_seq, 0), $3::bigint),
           pending_first_at = COALESCE(pending_first_at, now() - make_interval(secs => $4::double precision / 1000)),
           pending_last_at = COALESCE(pending_last_at, now()),
           pending_changes = GREATEST(pending_changes, 1),
           pending_version = pending_version + 1,
           delivered_seq = NULL,
           delivered_at = NULL
       WHERE endpoint_id = $1::uuid AND scene_id = $2::uuid
       RETURNING scene_id`,
      [endpointId, sceneId, seq.toString(), coalesceMs],
    );
    return rows.length > 0;
  }

  /** Endpoints and whether any is disabled: the health route's figures. */
  async health(): Promise<{ endpoints: number; disabled: Array<{ endpointId: string; scriptId: string; disabledAt: Date; reason: string | null }>; pendingChanges: number }> {
    const rows = await this.sql.query<{ endpoint_id: string; script_id: string; disabled_at: Date | null; disabled_reason: string | null; pending_changes: Numeric | null }>(
      'webhook_health',
      `SELECT e.endpoint_id, e.script_id, e.disabled_at, e.disabled_reason,
              (SELECT COALESCE(sum(s.pending_changes), 0) FROM webhook_scene_states s WHERE s.endpoint_id = e.endpoint_id AND s.pending_seq IS NOT NULL) AS pending_changes
       FROM webhook_endpoints e ORDER BY e.disabled_at DESC NULLS LAST, e.endpoint_id`,
      [],
    );
    return {
      endpoints: rows.length,
      disabled: rows
        .filter((row) => row.disabled_at !== null)
        .map((row) => ({ endpointId: row.endpoint_id, scriptId: row.script_id, disabledAt: row.disabled_at!, reason: row.disabled_reason })),
      pendingChanges: rows.reduce((sum, row) => sum + Number(row.pending_changes ?? 0), 0),
    };
  }

  // ---- the deliverer ----

  /**
   * One statement of the deliverer's own bookkeeping (leases, folds, delivered and failed marks),
   * committed without waiting for the WAL flush (`commitWithoutFlushWait`). Each such commit used
   * to be one more flush the editors' commits queued behind (with ten endpoints the server's commit
   * p99 was 2-3 ms higher than with none; 1-2 ms since). A crash of the database can lose only a
   * suffix of these commits, never an event: the state it leaves is an earlier one the deliverer
   * passed through. A lost fold is folded again from the change feed; a lost
   * delivered mark sends the delivery again, with the same event id (at least once). A lost lease
   * runs out. What endpoints' owners do (register, delete, enable, redeliver) commits as usual.
   */
  private bookkeeping<Row>(name: string, text: string, values: readonly unknown[]): Promise<Row[]> {
    return this.sql.transaction(async (tx) => {
      await commitWithoutFlushWait(tx);
      return tx.query<Row>(name, text, values);
    });
  }

  /** Every endpoint, with what a tick needs to decide whether it has work (one statement). */
  async candidates(owner: string, coalesceMs: number): Promise<DeliveryCandidate[]> {
    const rows = await this.sql.query<EndpointRow & { ready: boolean; leased_elsewhere: boolean; due: boolean | null }>(
      'webhook_candidates',
      `SELECT e.endpoint_id, e.script_id, e.url, e.secret, e.event_kinds, e.created_by, e.created_at, e.disabled_at, e.disabled_reason,
              e.consecutive_failures, e.next_attempt_at, e.last_error, e.last_success_at, e.cursor_xid, e.cursor_change_id,
              e.next_attempt_at <= now() AS ready,
              (e.lease_until IS NOT NULL AND e.lease_until > now() AND e.lease_owner IS DISTINCT FROM $1::text) AS leased_elsewhere,
              COALESCE(p.pending, 0) AS pending_changes, COALESCE(p.due, false) AS due
       FROM webhook_endpoints e
       LEFT JOIN LATERAL (
         SELECT sum(s.pending_changes) AS pending,
                bool_or(GREATEST(s.pending_first_at, COALESCE(s.delivered_at, s.pending_first_at)) <= now() - make_interval(secs => $2::double precision / 1000)) AS due
         FROM webhook_scene_states s WHERE s.endpoint_id = e.endpoint_id AND s.pending_seq IS NOT NULL
       ) p ON true`,
      [owner, coalesceMs],
    );
    return rows.map((row) => ({ ...toEndpoint(row), secret: row.secret, ready: row.ready, leasedElsewhere: row.leased_elsewhere, due: row.due === true }));
  }

  /**
   * Takes (or renews) the endpoint's lease for `leaseMs`: one deliverer per endpoint at a time,
   * across instances. A lease, not a row lock: a lock would hold a transaction (and its xid) open
   * for the length of an HTTP request, and an open transaction holds back the change feed of every
   * reader (src/log/changes.ts). A deliverer that dies loses the lease when it runs out.
   */
  async lease(endpointId: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.leaseMany([endpointId], owner, leaseMs)).has(endpointId);
  }

  /** `lease` for several endpoints in one statement: those this deliverer now holds. */
  async leaseMany(endpointIds: readonly string[], owner: string, leaseMs: number): Promise<Set<string>> {
    if (endpointIds.length === 0) return new Set();
    const rows = await this.bookkeeping<{ endpoint_id: string }>(
      'webhook_lease',
      `UPDATE webhook_endpoints SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE endpoint_id = ANY($1::uuid[]) AND disabled_at IS NULL AND (lease_until IS NULL OR lease_until <= now() OR lease_owner = $2)
       RETURNING endpoint_id`,
      [endpointIds, owner, leaseMs],
    );
    return new Set(rows.map((row) => row.endpoint_id));
  }

  async releaseLeases(endpointIds: readonly string[], owner: string): Promise<void> {
    if (endpointIds.length === 0) return;
    await this.bookkeeping(
      'webhook_release_lease',
      'UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL WHERE endpoint_id = ANY($1::uuid[]) AND lease_owner = $2',
      [endpointIds, owner],
    );
  }

  async states(endpointId: string, sceneIds: readonly string[]): Promise<Map<string, SceneDeliveryState>> {
    const rows = await this.sql.query<StateRow>(
      'webhook_states',
      `SELECT ${STATE_COLUMNS} FROM webhook_scene_states WHERE endpoint_id = $1::uuid AND scene_id = ANY($2::uuid[])`,
      [endpointId, sceneIds],
    );
    return new Map(rows.map((row) => [row.scene_id, toState(row)]));
  }

  /**
   * Moves the cursor from `from` to `to` and writes the folded states, in one statement: both or
   * neither, and only while this deliverer holds the lease and the cursor is still at `from`.
   */
  async writeFold(endpointId: string, owner: string, from: ChangePosition, to: ChangePosition, states: readonly SceneDeliveryState[]): Promise<boolean> {
    const rows = await this.bookkeeping<{ endpoint_id: string }>(
      'webhook_write_fold',
      `WITH moved AS (
         UPDATE webhook_endpoints SET cursor_xid = $5::bigint, cursor_change_id = $6::bigint
         WHERE endpoint_id = $1::uuid AND lease_owner = $2 AND cursor_xid = $3::bigint AND cursor_change_id = $4::bigint
         RETURNING endpoint_id
       ),
       input AS (
         SELECT * FROM unnest($7::uuid[], $8::bigint[], $9::text[], $10::uuid[], $11::timestamptz[], $12::timestamptz[], $13::int[], $14::int[], $15::int[], $16::boolean[])
           AS t (scene_id, pending_seq, pending_kinds, pending_created_by, pending_first_at, pending_last_at, pending_changes, pending_version, lifecycle, deleted)
       ),
       written AS (
         INSERT INTO webhook_scene_states AS s (endpoint_id, scene_id, pending_seq, pending_kinds, pending_created_by, pending_first_at, pending_last_at, pending_changes, pending_version, lifecycle, deleted)
         SELECT moved.endpoint_id, i.scene_id, i.pending_seq, string_to_array(i.pending_kinds, ','), i.pending_created_by, i.pending_first_at, i.pending_last_at, i.pending_changes, i.pending_version, i.lifecycle, i.deleted
         FROM moved, input i
         ON CONFLICT (endpoint_id, scene_id) DO UPDATE SET
           pending_seq = excluded.pending_seq, pending_kinds = excluded.pending_kinds, pending_created_by = excluded.pending_created_by,
           pending_first_at = excluded.pending_first_at, pending_last_at = excluded.pending_last_at, pending_changes = excluded.pending_changes,
           pending_version = s.pending_version + 1, lifecycle = excluded.lifecycle, deleted = excluded.deleted
       )
       SELECT endpoint_id FROM moved`,
      [
        endpointId,
        owner,
        from.xid.toString(),
        from.changeId.toString(),
        to.xid.toString(),
        to.changeId.toString(),
        states.map((s) => s.sceneId),
        states.map((s) => s.pendingSeq?.toString() ?? null),
        states.map((s) => s.pendingKinds.join(',')),
        states.map((s) => s.pendingCreatedBy),
        states.map((s) => s.pendingFirstAt),
        states.map((s) => s.pendingLastAt),
        states.map((s) => s.pendingChanges),
        states.map((s) => s.pendingVersion),
        states.map((s) => s.lifecycle),
        states.map((s) => s.deleted),
      ],
    );
    return rows.length > 0;
  }

  /** The scenes whose coalescing window has passed, oldest waiting first. */
  async dueScenes(endpointId: string, coalesceMs: number, limit: number): Promise<SceneDeliveryState[]> {
    const rows = await this.sql.query<StateRow>(
      'webhook_due_scenes',
      `SELECT ${STATE_COLUMNS} FROM webhook_scene_states
       WHERE endpoint_id = $1::uuid AND pending_seq IS NOT NULL
         AND GREATEST(pending_first_at, COALESCE(delivered_at, pending_first_at)) <= now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY pending_first_at, scene_id
       LIMIT $3`,
      [endpointId, coalesceMs, limit],
    );
    return rows.map(toState);
  }

  /**
   * A 2xx: the scene's delivery is done up to `seq`, and what waited is cleared unless more came
   * in meanwhile (`pendingVersion` moved: a redelivery asked for) or the content sent was older
   * than the newest change waiting (`seq` below `pending_seq`: that change is sent after the window). The endpoint's failures reset.
   * The kinds, author and time stay: they are what a redelivery of this event carries again (the
   * next fold replaces them).
   */
  async markDelivered(endpointId: string, owner: string, delivered: { sceneId: string; seq: bigint; eventId: string; pendingVersion: number }): Promise<void> {
    await this.bookkeeping(
      'webhook_mark_delivered',
      `WITH scene AS (
         UPDATE webhook_scene_states
         SET delivered_seq = $4::bigint, delivered_at = now(), last_event_id = $5::text,
             pending_seq = CASE WHEN pending_version = $6::int AND pending_seq <= $4::bigint THEN NULL ELSE pending_seq END,
             pending_first_at = CASE WHEN pending_version = $6::int AND pending_seq <= $4::bigint THEN NULL ELSE pending_first_at END,
             pending_changes = CASE WHEN pending_version = $6::int AND pending_seq <= $4::bigint THEN 0 ELSE pending_changes END
         WHERE endpoint_id = $1::uuid AND scene_id = $3::uuid AND ${LEASED}
       )
       UPDATE webhook_endpoints SET consecutive_failures = 0, last_success_at = now(), last_error = NULL
       WHERE endpoint_id = $1::uuid AND lease_owner = $2`,
      [endpointId, owner, delivered.sceneId, delivered.seq.toString(), delivered.eventId, delivered.pendingVersion],
    );
  }

  /** A failure: the next attempt waits `retryInMs`; the endpoint is disabled at `maxFailures` in a row. */
  async markFailed(endpointId: string, owner: string, failure: { error: string; retryInMs: number; maxFailures: number }): Promise<{ failures: number; disabled: boolean }> {
    const [row] = await this.bookkeeping<{ consecutive_failures: number; disabled: boolean }>(
      'webhook_mark_failed',
      `UPDATE webhook_endpoints
       SET consecutive_failures = consecutive_failures + 1,
           last_error = $3::text,
           next_attempt_at = now() + make_interval(secs => $4::double precision / 1000),
           disabled_at = CASE WHEN consecutive_failures + 1 >= $5::int THEN now() ELSE disabled_at END,
           disabled_reason = CASE WHEN consecutive_failures + 1 >= $5::int THEN format('%s failures in a row; last: %s', consecutive_failures + 1, $3::text) ELSE disabled_reason END
       WHERE endpoint_id = $1::uuid AND lease_owner = $2
       RETURNING consecutive_failures, disabled_at IS NOT NULL AS disabled`,
      [endpointId, owner, failure.error.slice(0, 500), failure.retryInMs, failure.maxFailures],
    );
    return { failures: Number(row?.consecutive_failures ?? 0), disabled: row?.disabled ?? false };
  }
}


