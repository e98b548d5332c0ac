import type { HocuspocusProvider } from '@hocuspocus/provider';
import type { Counter } from 'prom-client';
import * as Y from 'yjs';
import { SCREENPLAY_SCHEMA_VERSION } from '../../src/screenplay/schema.ts';
import { TEST_AUTH_ENV, TEST_JWT_AUDIENCE, TEST_JWT_ISSUER, TEST_JWT_SECRET, tokenFor } from '../helpers/auth.ts';
import { connectClient, type ConnectOptions, type TestClient } from '../helpers/clients.ts';

// The test servers' secret, issuer and audience (test/helpers/auth.ts), under the names these tests use.
export { tokenFor };
export const TEST_SECRET = TEST_JWT_SECRET;
export const TEST_ISSUER = TEST_JWT_ISSUER;
export const TEST_AUDIENCE = TEST_JWT_AUDIENCE;
export const AUTH_ENV = TEST_AUTH_ENV;

export const CURRENT_EDITOR = { schemaVersion: String(SCREENPLAY_SCHEMA_VERSION) };

export type Outcome = { ok: true; scope: string } | { ok: false; reason: string };

/** A provider as the editor opens it, with its authentication outcome as a promise. */
export function openScene(
  url: string,
  sceneId: string,
  token: string,
  options: Omit<ConnectOptions, 'token'> = {},
): { client: TestClient; outcome: Promise<Outcome> } {
  let settle!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  const client = connectClient(url, sceneId, {
    parameters: CURRENT_EDITOR,
    ...options,
    token,
    onAuthenticationFailed: (reason) => settle({ ok: false, reason }),
  });
  client.provider.on('authenticated', ({ scope }: { scope: string }) => settle({ ok: true, scope }));
  const timeout = setTimeout(() => settle({ ok: false, reason: 'test: no answer within 10 s' }), 10_000);
  void outcome.then(() => clearTimeout(timeout));
  return { client, outcome };
}

export { typeInto } from '../helpers/typing.ts';

export function textOf(doc: Y.Doc): string {
  return doc.getXmlFragment('default').toString();
}

/** The sum of a counter over the series that carry `labels` (all series when none are given). */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Collects the reasons of the close messages the server sends a provider (`onClose`). */
export function closeReasons(provider: HocuspocusProvider): string[] {
  const reasons: string[] = [];
  provider.on('close', ({ event }: { event: { reason: string } }) => reasons.push(event.reason));
  return reasons;
}
