import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the server exports, on one registry per server instance (tests run several servers
 * in one process, so nothing lives on prom-client's global registry). Names follow the
 * architecture document's section 12.1 where it names them.
 */
export interface Metrics {
  registry: Registry;
  updatesAppended: Counter<'origin'>;
  appendBatchSize: Histogram;
  appendLatency: Histogram;
  /** From `GroupCommitQueue.append` to the start of the batch that writes the update: the tail's other half beside the commit itself. */
  appendQueueWait: Histogram;
  ackLatency: Histogram;
  persistErrors: Counter<'reason'>;
  updatesSkipped: Counter<'reason'>;
  updatesRefused: Counter<'reason'>;
  connectionsRefused: Counter<'reason'>;
  connectionsEnded: Counter<'reason'>;
  messagesRefused: Counter<'reason'>;
  socketsRefused: Counter<'reason'>;
  tokenRefreshes: Counter<'result'>;
  accessRechecks: Counter<'result'>;
  authTokenVerifications: Counter<'result'>;
  authTokenCacheHits: Counter;
  quarantinedUpdates: Counter;
  loadGaps: Counter;
  loadRowsChecked: Counter;
  corruptionDetected: Counter;
  sceneLoadChecks: Counter<'result'>;
  sceneLoadTime: Histogram;
  documentsLoaded: Gauge;
  divergenceRate: Gauge;
  snapshotLagMinutes: Gauge;
  /** Live scenes per lifecycle state (section 8.1, src/scenes/lifecycle.ts), refreshed at each scrape. */
  scenesByState: Gauge<'state'>;
  /** REST copies written from live documents (extensions/RestCopyFollower.ts), and why the others were not. */
  restCopyFollowerSnapshots: Counter<'result'>;
  redisConnected: Gauge;
  redisFanoutEnabled: Gauge;
  compactions: Counter<'result'>;
  compactionRowsMerged: Counter;
  retentionRowsDeleted: Counter;
  backgroundJobRuns: Counter<'job' | 'result'>;
  backgroundJobDuration: Histogram<'job'>;
  /** From the commit of the oldest change a webhook delivery carries to its 2xx (the coalescing window included). */
  webhookDeliveryLatency: Histogram;
  webhookDeliveries: Counter<'result'>;
  webhookDeliveryFailures: Counter<'reason'>;
  /** Changes folded for an endpoint and not delivered yet. */
  webhookQueueDepth: Gauge<'endpoint'>;
  webhookEndpointsDisabled: Gauge;
  changeFeedRowsDeleted: Counter;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    updatesAppended: new Counter({
      name: 'yjs_updates_appended_total',
      help: 'Yjs updates committed to scene_versions, by origin (client or server)',
      labelNames: ['origin'],
      registers,
    }),
    appendBatchSize: new Histogram({
      name: 'yjs_append_batch_size',
      help: 'Updates per group-committed INSERT',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    appendLatency: new Histogram({
      name: 'yjs_append_statement_seconds',
      help: 'Duration of one group-commit INSERT, from send to commit',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    appendQueueWait: new Histogram({
      name: 'yjs_append_queue_wait_seconds',
      help: 'Time an update waits in the group-commit queue before the batch that writes it starts (the batch in flight ahead of it)',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    ackLatency: new Histogram({
      name: 'yjs_ack_latency_seconds',
      help: 'Time from receiving a client update to its commit (the acknowledgement waits for it)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    persistErrors: new Counter({
      name: 'update_persist_errors_total',
      help: 'Updates that could not be appended (database error, missing scene); never acknowledged',
      labelNames: ['reason'],
      registers,
    }),
    updatesSkipped: new Counter({
      name: 'yjs_updates_skipped_total',
      help: 'Updates not appended because they were empty, already in the document, or already in the log (stored through another instance)',
      labelNames: ['reason'],
      registers,
    }),
    updatesRefused: new Counter({
      name: 'yjs_updates_refused_total',
      help: 'Client messages refused by a guard (size, rate, malformed, read-only)',
      labelNames: ['reason'],
      registers,
    }),
    connectionsRefused: new Counter({
      name: 'collab_connections_refused_total',
      help: 'Document connections refused before they opened, by refusal code (invalid-token, no-access, ...)',
      labelNames: ['reason'],
      registers,
    }),
    connectionsEnded: new Counter({
      name: 'collab_connections_ended_total',
      help: 'Open document connections the server ended because their token expired or their access changed, by code (token-expired, no-access, access-changed, ...)',
      labelNames: ['reason'],
      registers,
    }),
    messagesRefused: new Counter({
      name: 'collab_messages_refused_total',
      help: 'Client messages the flood guards refused before Hocuspocus handled them, by refusal code (awareness-flood and sync-flood: dropped over the rate; awareness-too-large: the scene connection closed)',
      labelNames: ['reason'],
      registers,
    }),
    socketsRefused: new Counter({
      name: 'collab_sockets_refused_total',
      help: 'Sockets closed by a limit, by refusal code (too-many-connections as they open; awareness-flood, sync-flood, unauthenticated-queue-bytes, unauthenticated-queue-messages, unauthenticated-documents)',
      labelNames: ['reason'],
      registers,
    }),
    tokenRefreshes: new Counter({
      name: 'collab_token_refreshes_total',
      help: 'Tokens an open connection sent again (onTokenSync), by result: extended, unchanged (no later exp), refused',
      labelNames: ['result'],
      registers,
    }),
    accessRechecks: new Counter({
      name: 'collab_access_rechecks_total',
      help: "Passes that checked every open connection's access against the database, by result (ok, failed: nothing was decided)",
      labelNames: ['result'],
      registers,
    }),
    authTokenVerifications: new Counter({
      name: 'auth_token_verifications_total',
      help: 'JWT signature verifications actually run (cache misses), by result (valid, expired, invalid)',
      labelNames: ['result'],
      registers,
    }),
    authTokenCacheHits: new Counter({
      name: 'auth_token_cache_hits_total',
      help: 'Tokens accepted from the verification cache without verifying the signature again',
      registers,
    }),
    quarantinedUpdates: new Counter({
      name: 'yjs_quarantined_updates_total',
      help: 'Stored updates that failed to decode on load and were moved to quarantined_updates',
      registers,
    }),
    loadGaps: new Counter({
      name: 'yjs_load_gaps_total',
      help: 'Loads that ended with missing dependencies (pending structs or deletes): a gap in the log',
      registers,
    }),
    loadRowsChecked: new Counter({
      name: 'yjs_load_rows_checked_total',
      help: 'Stored updates a load checked before applying them (those an earlier load checked, byte for byte the same, are not checked again)',
      registers,
    }),
    corruptionDetected: new Counter({
      name: 'yjs_corruption_detected_total',
      help: 'Scenes whose stored updates replayed to an empty document while the REST copy has content',
      registers,
    }),
    sceneLoadChecks: new Counter({
      name: 'scene_load_checks_total',
      help: 'Load-time checks against the REST copy, by result (seeded, loaded-existing, in-sync, diverged, corrupt, reseeded, invalid-rest, ...)',
      labelNames: ['result'],
      registers,
    }),
    sceneLoadTime: new Histogram({
      name: 'scene_load_time_seconds',
      help: 'Time to load a scene from the log into memory',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    }),
    documentsLoaded: new Gauge({
      name: 'yjs_documents_loaded',
      help: 'Scenes currently loaded in memory on this instance',
      registers,
    }),
    divergenceRate: new Gauge({
      name: 'divergence_rate',
      help: 'Percentage of checked scenes whose REST copy diverges from the Yjs state',
      registers,
    }),
    snapshotLagMinutes: new Gauge({
      name: 'snapshot_lag_minutes',
      help: 'Age in minutes of the oldest REST snapshot among scenes with newer Yjs updates',
      registers,
    }),
    scenesByState: new Gauge({
      name: 'writersroom_scenes_by_state',
      help: 'Live scenes per lifecycle state (CREATED, YJS_INITIAL, YJS_SYNCED, YJS_ACTIVE, YJS_COMPACTED, YJS_ARCHIVED), counted from the database at each scrape',
      labelNames: ['state'],
      registers,
    }),
    restCopyFollowerSnapshots: new Counter({
      name: 'rest_copy_follower_snapshots_total',
      help: 'REST snapshots derived from live documents on their debounced store, by result (written; skipped: current, superseded, unproven, unconvertible, failed)',
      labelNames: ['result'],
      registers,
    }),
    redisConnected: new Gauge({
      name: 'redis_fanout_connected',
      help: '1 when Redis fan-out across instances is up, 0 in single-server mode',
      registers,
    }),
    redisFanoutEnabled: new Gauge({
      name: 'redis_fanout_enabled',
      help: '1 when REDIS_URL is set (several instances share documents); with redis_fanout_connected 0 that is single-server mode',
      registers,
    }),
    compactions: new Counter({
      name: 'yjs_compactions_total',
      help: 'Scene compactions, by result (compacted, nothing_to_compact, busy: another instance had it, failed)',
      labelNames: ['result'],
      registers,
    }),
    compactionRowsMerged: new Counter({
      name: 'yjs_compaction_rows_merged_total',
      help: 'Log rows merged into compacted rows (marked compacted_by)',
      registers,
    }),
    retentionRowsDeleted: new Counter({
      name: 'yjs_retention_rows_deleted_total',
      help: 'Merged log rows deleted by retention after the retention period',
      registers,
    }),
    backgroundJobRuns: new Counter({
      name: 'background_job_runs_total',
      help: 'Passes of the background jobs run by this instance, by job and result (ok, failed)',
      labelNames: ['job', 'result'],
      registers,
    }),
    backgroundJobDuration: new Histogram({
      name: 'background_job_duration_seconds',
      help: 'Duration of one pass of a background job',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    }),
    webhookDeliveryLatency: new Histogram({
      name: 'webhook_delivery_latency_seconds',
      help: 'From the commit of the oldest change a webhook delivery carries to its 2xx answer (includes WEBHOOK_COALESCE_MS)',
      // Fine around the default 2 s window, where "how long past the window" is read.
      buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 2.25, 2.5, 2.75, 3, 3.5, 4, 5, 10, 30, 60, 300],
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts, by result (delivered, failed)',
      labelNames: ['result'],
      registers,
    }),
    webhookDeliveryFailures: new Counter({
      name: 'webhook_delivery_failures_total',
      help: 'Failed webhook deliveries, by reason (status: a non-2xx answer, timeout, network, refused_address)',
      labelNames: ['reason'],
      registers,
    }),
    webhookQueueDepth: new Gauge({
      name: 'webhook_queue_depth',
      help: 'Changes folded for a webhook endpoint and not delivered yet, per endpoint (as last seen by this instance)',
      labelNames: ['endpoint'],
      registers,
    }),
    webhookEndpointsDisabled: new Gauge({
      name: 'webhook_endpoints_disabled',
      help: 'Webhook endpoints disabled after WEBHOOK_MAX_FAILURES failures in a row (or by their owner)',
      registers,
    }),
    changeFeedRowsDeleted: new Counter({
      name: 'change_feed_rows_deleted_total',
      help: 'Change feed rows deleted by retention (CHANGE_FEED_RETENTION_DAYS)',
      registers,
    }),
  };
  // A labelled counter prints no sample until a label set is first used; the alerting rules of
  // section 12.1 (e.g. persist errors per minute) need a 0 to compute a rate from, not a gap.
  for (const reason of ['database', 'scene_not_found']) metrics.persistErrors.inc({ reason }, 0);
  for (const origin of ['client', 'server']) metrics.updatesAppended.inc({ origin }, 0);
  for (const result of ['delivered', 'failed']) metrics.webhookDeliveries.inc({ result }, 0);
  for (const reason of ['status', 'timeout', 'network', 'refused_address']) metrics.webhookDeliveryFailures.inc({ reason }, 0);
  for (const result of ['written', 'current', 'superseded', 'unproven', 'unconvertible', 'failed']) metrics.restCopyFollowerSnapshots.inc({ result }, 0);
  return metrics;
}
