// webhooks: the scheduled delivery of webhooks (src/webhooks). A pass is a delivery session of up
// to a minute that ticks every WEBHOOK_POLL_MS (and at once when this instance commits), so the
// scheduler logs one line a minute instead of one per tick; the next session starts right after.
import type { DeliverySessionSummary, WebhookDeliverer } from '../src/webhooks/deliverer.ts';
import type { BackgroundJob } from './scheduler.ts';

/** How long one pass delivers before it ends and the scheduler starts the next. */
export const DELIVERY_SESSION_MS = 60_000;

export function webhookDeliveryJob(deps: { deliverer: WebhookDeliverer; pollMs: number; sessionMs?: number }): BackgroundJob<DeliverySessionSummary> {
  return {
    name: 'webhooks',
    // The pause between two sessions; 0 (WEBHOOK_POLL_MS=0) keeps delivery out of the schedule.
    intervalMs: deps.pollMs,
    run: ({ signal }) => deps.deliverer.runSession({ signal, durationMs: deps.sessionMs ?? DELIVERY_SESSION_MS }),
  };
}
