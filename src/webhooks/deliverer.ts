import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../concurrency.ts';
import type { ChangeWatch } from '../changes/watch.ts';
import type { Config } from '../config.ts';
import { ChangesExpiredError, comparePositions, type ChangeKind, type ChangePosition, type LogChanges, type SceneChange } from '../log/changes.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { eventIdOf, type WebhookPayload } from './events.ts';
import { backoffMs, foldChanges, type SceneDeliveryState } from './fold.ts';
import { sendWebhook, type SendResult } from './sender.ts';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.ts';
import type { DeliveryCandidate, WebhookStore } from './store.ts';

type WebhooksConfig = Config['webhooks'];

/** A scene's content as a delivery carries it (src/scenes' reader, on the worker pool). */
export interface SceneContent {
  /** Null for a scene without a Yjs log (its REST copy is the content). */
  seq: bigint | null;
  blocks: unknown[];
}

/** The settings (`Config['webhooks']`: coalescing, timeouts, backoff, SSRF) and what the deliverer works with. */
export interface WebhookDelivererConfiguration extends WebhooksConfig {
  store: WebhookStore;
  changes: LogChanges;
  /** The scene's current content; throws `SceneNotFoundError` for a scene that is gone (purged). */
  readScene: (sceneId: string) => Promise<SceneContent | null>;
  /** Wakes the deliverer when this instance commits; without it the deliverer polls only. */
  watch?: ChangeWatch;
  metrics: Metrics;
  logger: Logger;
  /**
   * The shortest pause between two ticks: a burst of commits costs one tick, not one per commit.
   * By default an eighth of the coalescing window, from 100 to 500 ms: a delivery leaves at most
   * about that long after its window, and typing does not make the deliverer fold on every commit.
   */
  minTickMs?: number;
  /**
   * The shortest pause between two folds of an endpoint that has nothing due: by default half the
   * coalescing window, at most 2 s. A change is folded within that long (and a tick), before its
   * window ends, and its time comes from the feed, not from the fold; folding on every tick of a
   * busy script only cost the database three statements per endpoint and tick.
   */
  foldEveryMs?: number;
  /** Changes read per feed page while folding. */
  pageSize?: number;
  /** Deliveries per endpoint per tick: the lease is renewed before each. */
  deliveriesPerTick?: number;
  send?: typeof sendWebhook;
  random?: () => number;
}

/**
 * A page of one script's changes after a position, read at most once per tick: the endpoints of a
 * script (ten on one script, say) usually stand at the same cursor, and each reading the same page
 * itself cost the database and the serving thread ten reads and parses of the same rows.
 */
type ScriptPages = (scriptId: string, after: ChangePosition) => Promise<SceneChange[]>;

/** An endpoint leased and folded on this tick, with the scenes due for delivery. */
interface PreparedEndpoint {
  endpoint: DeliveryCandidate;
  due: SceneDeliveryState[];
}

export interface DeliverySessionSummary {
  ticks: number;
  delivered: number;
  failed: number;
  disabled: number;
}

/**
 * Delivers webhooks: on each tick, every endpoint with work (changes after its cursor, or a scene
 * whose coalescing window has passed) is leased, its new changes are folded into its per-scene
 * states (cursor and states written in one statement), and its due scenes are sent, one at a time,
 * with their current content, read once per scene and tick for every endpoint. A delivery is
 * marked done only after a 2xx; whatever happens in between (a crash, a lost lease) leaves it
 * waiting, to be sent again with the same event id.
 *
 * Nothing here is on the path of an edit: the append only wakes the tick (`ChangeWatch.notify`),
 * deliveries run `concurrency` endpoints at a time, each request is bounded by `timeoutMs`, and
 * the content is converted where the scene reader converts it (the worker pool, also for a
 * document loaded here).
 */
export class WebhookDeliverer {
  private readonly configuration: Required<Omit<WebhookDelivererConfiguration, 'watch'>> & Pick<WebhookDelivererConfiguration, 'watch'>;
  /** This deliverer's name in endpoint leases. */
  readonly owner = `deliverer-${randomUUID()}`;
  /** When this deliverer last folded each endpoint (`foldEveryMs`). */
  private readonly foldedAt = new Map<string, number>();

  constructor(configuration: WebhookDelivererConfiguration) {
    this.configuration = {
      minTickMs: Math.min(500, Math.max(100, configuration.coalesceMs / 8)),
      foldEveryMs: Math.min(2000, configuration.coalesceMs / 2),
      pageSize: 500,
      deliveriesPerTick: 20,
      send: sendWebhook,
      random: Math.random,
      ...configuration,
    };
  }

  /** A lease outlives one delivery (its timeout) and the statements around it. */
  private get leaseMs(): number {
    return 2 * this.configuration.timeoutMs + 2000;
  }

  /** Ticks until `durationMs` has passed or `signal` aborts: one scheduled pass of the job. */
  async runSession(options: { signal: AbortSignal; durationMs: number }): Promise<DeliverySessionSummary> {
    const { watch, pollMs, minTickMs, logger } = this.configuration;
    const summary: DeliverySessionSummary = { ticks: 0, delivered: 0, failed: 0, disabled: 0 };
    const end = Date.now() + options.durationMs;
    while (!options.signal.aborted && Date.now() < end) {
      const started = Date.now();
      try {
        const tick = await this.tick();
        summary.ticks += 1;
        summary.delivered += tick.delivered;
        summary.failed += tick.failed;
        summary.disabled += tick.disabled;
      } catch (error) {
        logger.warn({ err: error }, 'webhook delivery tick failed; the next one tries again');
      }
      const rest = Math.min(pollMs, end - Date.now());
      if (watch) await watch.wait(rest, options.signal);
      else await pause(rest, options.signal);
      const gap = minTickMs - (Date.now() - started);
      if (gap > 0) await pause(gap, options.signal);
    }
    return summary;
  }

  /**
   * One look at every endpoint, in two steps: every endpoint with work is leased and folded and
   * its due scenes taken; then each is delivered. A scene's content is read once per tick for all
   * endpoints (most endpoints of a script want the same scenes), and only after every fold, so one
   * read is at least as new as every change folded on this tick.
   */
  async tick(): Promise<{ delivered: number; failed: number; disabled: number }> {
    const { store, changes, metrics, coalesceMs, concurrency } = this.configuration;
    const candidates = await store.candidates(this.owner, coalesceMs);
    metrics.webhookEndpointsDisabled.set(candidates.filter((c) => c.disabledAt !== null).length);
    for (const candidate of candidates) metrics.webhookQueueDepth.set({ endpoint: candidate.endpointId }, candidate.pendingChanges);
    const tip = await changes.tip();
    // Before the lease is taken: what is left of a lease is counted from here, never overestimated.
    const leasedAt = Date.now();
    const known = new Set(candidates.map((c) => c.endpointId));
    for (const id of this.foldedAt.keys()) if (!known.has(id)) this.foldedAt.delete(id);
    const foldDue = (c: DeliveryCandidate) => comparePositions(c.cursor, tip) < 0 && leasedAt - (this.foldedAt.get(c.endpointId) ?? 0) >= this.configuration.foldEveryMs;
    const work = candidates.filter((c) => c.disabledAt === null && c.ready && !c.leasedElsewhere && (c.due || foldDue(c)));
    const held = await store.leaseMany(work.map((c) => c.endpointId), this.owner, this.leaseMs);
    const leased = work.filter((c) => held.has(c.endpointId));
    const result = { delivered: 0, failed: 0, disabled: 0 };
    const pages = new Map<string, Promise<SceneChange[]>>();
    const pageOf: ScriptPages = (scriptId, after) => {
      const key = `${scriptId}/${after.xid}/${after.changeId}`;
      let page = pages.get(key);
      if (!page) pages.set(key, (page = changes.page({ after, scriptIds: [scriptId], limit: this.configuration.pageSize })));
      return page;
    };
    try {
      const prepared = (await mapWithConcurrency(leased, concurrency, (endpoint) => this.prepare(endpoint, tip, pageOf))).filter(
        (endpoint): endpoint is PreparedEndpoint => endpoint !== null,
      );
      const contents = new Map<string, Promise<SceneContent | null>>();
      const contentOf = (sceneId: string) => {
        let read = contents.get(sceneId);
        if (!read) contents.set(sceneId, (read = this.configuration.readScene(sceneId)));
        return read;
      };
      await mapWithConcurrency(prepared, concurrency, async (endpoint) => {
        const done = await this.serveEndpoint(endpoint, contentOf, leasedAt);
        result.delivered += done.delivered;
        result.failed += done.failed;
        result.disabled += done.disabled;
      });
    } finally {
      await store.releaseLeases(leased.map((c) => c.endpointId), this.owner).catch((error: unknown) => this.configuration.logger.warn({ err: error }, 'webhook leases not released; they run out'));
    }
    return result;
  }

  /** Folds the leased endpoint's new changes; its due scenes, or null when it is not served on this tick. */
  private async prepare(endpoint: DeliveryCandidate, tip: ChangePosition, pageOf: ScriptPages): Promise<PreparedEndpoint | null> {
    const { store, logger, coalesceMs, deliveriesPerTick } = this.configuration;
    try {
      const earliestFolded = await this.fold(endpoint, tip, pageOf);
      this.foldedAt.set(endpoint.endpointId, Date.now());
      // A scene is due once its window has passed: known from the tick's first look, or from a
      // change just folded that waited that long already (folded late: after a restart, say).
      const due = endpoint.due || (earliestFolded !== null && earliestFolded.getTime() <= Date.now() - coalesceMs);
      return { endpoint, due: due ? await store.dueScenes(endpoint.endpointId, coalesceMs, deliveriesPerTick) : [] };
    } catch (error) {
      logger.warn({ err: error, endpointId: endpoint.endpointId }, 'webhook endpoint not served on this tick');
      return null;
    }
  }

  /**
   * Sends the endpoint's due scenes, one at a time. The tick took every lease at its start
   * (`leasedAt`) and the deliveries of other endpoints may have run long since, so before a
   * delivery the lease is renewed when what is left of it could run out during that delivery and
   * its mark (a timeout and a second).
   */
  private async serveEndpoint({ endpoint, due }: PreparedEndpoint, contentOf: (sceneId: string) => Promise<SceneContent | null>, leasedAt: number) {
    const { store, logger, timeoutMs } = this.configuration;
    const done = { delivered: 0, failed: 0, disabled: 0 };
    let heldUntil = leasedAt + this.leaseMs;
    try {
      for (const state of due) {
        if (heldUntil - Date.now() < timeoutMs + 1000) {
          const renewedAt = Date.now();
          if (!(await store.lease(endpoint.endpointId, this.owner, this.leaseMs))) break;
          heldUntil = renewedAt + this.leaseMs;
        }
        const outcome = await this.deliver(endpoint, state, contentOf);
        if (outcome === 'delivered') done.delivered += 1;
        else {
          done.failed += 1;
          if (outcome === 'disabled') done.disabled += 1;
          // The backoff is the endpoint's: nothing more is sent to it until it has passed.
          break;
        }
      }
    } catch (error) {
      logger.warn({ err: error, endpointId: endpoint.endpointId }, 'webhook endpoint not served on this tick');
    }
    return done;
  }

  /**
   * Folds the endpoint's new changes into its scene states, page by page (`pageOf`: shared by the
   * tick's endpoints), moving its cursor. Returns the earliest `pendingFirstAt` of the states it
   * wrote (null when it wrote none).
   */
  private async fold(endpoint: DeliveryCandidate, tip: ChangePosition, pageOf: ScriptPages): Promise<Date | null> {
    const { store, pageSize, logger } = this.configuration;
    const kinds = new Set<ChangeKind>(endpoint.eventKinds);
    let cursor = endpoint.cursor;
    let earliest: Date | null = null;
    for (;;) {
      let page;
      try {
        page = await pageOf(endpoint.scriptId, cursor);
      } catch (error) {
        if (!(error instanceof ChangesExpiredError)) throw error;
        // Only an endpoint left behind longer than the feed keeps changes gets here (disabled for weeks).
        logger.error({ endpointId: endpoint.endpointId, oldest: error.oldest }, 'webhook endpoint fell behind the change feed retention; it continues from the oldest kept change');
        if (!(await store.writeFold(endpoint.endpointId, this.owner, cursor, error.oldest, []))) return earliest;
        cursor = error.oldest;
        continue;
      }
      if (page.length === 0) {
        // Nothing of this script up to a tip read before this page: the cursor can skip to it,
        // so the next tick has nothing to look at unless the feed moves.
        if (comparePositions(cursor, tip) < 0) await store.writeFold(endpoint.endpointId, this.owner, cursor, tip, []);
        return earliest;
      }
      const last = page.at(-1)!.position;
      const states = await store.states(endpoint.endpointId, [...new Set(page.map((change) => change.sceneId))]);
      const folded = foldChanges(states, page, kinds);
      if (!(await store.writeFold(endpoint.endpointId, this.owner, cursor, last, folded))) return earliest;
      for (const state of folded) if (state.pendingFirstAt && (earliest === null || state.pendingFirstAt < earliest)) earliest = state.pendingFirstAt;
      cursor = last;
      if (page.length < pageSize) return earliest;
    }
  }

  private async deliver(endpoint: DeliveryCandidate, state: SceneDeliveryState, contentOf: (sceneId: string) => Promise<SceneContent | null>): Promise<'delivered' | 'failed' | 'disabled'> {
    const { store, metrics, logger, send, timeoutMs, allowPrivateAddresses } = this.configuration;
    const pendingSeq = state.pendingSeq ?? 0n;
    const content = state.deleted ? null : await contentOf(state.sceneId);
    const deleted = state.deleted || content === null;
    // The seq the content is. A read can be a moment older than the newest change folded (a live
    // document applies a commit just after it), and then it says so: the delivery does not clear
    // what waits (`markDelivered`), and the rest follows after the window.
    const seq = deleted || content.seq === null ? pendingSeq : content.seq;
    const eventId = eventIdOf({ endpointId: endpoint.endpointId, sceneId: state.sceneId, seq, lifecycle: state.lifecycle });
    const payload: WebhookPayload = {
      eventId,
      scriptId: endpoint.scriptId,
      sceneId: state.sceneId,
      seq: Number(seq),
      kinds: state.pendingKinds,
      createdBy: state.pendingCreatedBy,
      at: (state.pendingLastAt ?? new Date()).toISOString(),
      deleted,
      content: deleted ? null : content!.blocks,
    };
    const body = JSON.stringify(payload);
    const headers = { [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, body, Math.floor(Date.now() / 1000)), [EVENT_ID_HEADER]: eventId };
    const result: SendResult = await send(endpoint.url, body, headers, { timeoutMs, allowPrivateAddresses });
    if (result.ok) {
      metrics.webhookDeliveries.inc({ result: 'delivered' });
      if (state.pendingFirstAt) metrics.webhookDeliveryLatency.observe((Date.now() - state.pendingFirstAt.getTime()) / 1000);
      await store.markDelivered(endpoint.endpointId, this.owner, { sceneId: state.sceneId, seq, eventId, pendingVersion: state.pendingVersion });
      return 'delivered';
    }
    metrics.webhookDeliveries.inc({ result: 'failed' });
    metrics.webhookDeliveryFailures.inc({ reason: result.reason });
    const { maxFailures, retryBaseMs, retryMaxMs, random } = this.configuration;
    const retryInMs = backoffMs(endpoint.consecutiveFailures + 1, { baseMs: retryBaseMs, maxMs: retryMaxMs }, random);
    const failed = await store.markFailed(endpoint.endpointId, this.owner, { error: result.message, retryInMs, maxFailures });
    logger.warn(
      { endpointId: endpoint.endpointId, sceneId: state.sceneId, eventId, reason: result.reason, status: result.ok ? undefined : result.status, failures: failed.failures, retryInMs },
      failed.disabled ? 'webhook delivery failed; endpoint disabled' : 'webhook delivery failed; it is retried after the backoff',
    );
    return failed.disabled ? 'disabled' : 'failed';
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
