import type { HocuspocusProvider } from '@hocuspocus/provider';
import { connectClient, CURRENT_EDITOR, type ConnectOptions, type TestClient } from '../helpers/clients.ts';

export type Outcome = { ok: true; scope: string } | { ok: false; reason: string };

/** A provider as the editor opens it, with its authentication outcome as a promise. */
export function openScene(
  url: string,
  sceneId: string,
  token: ConnectOptions['token'],
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

/** Collects the reasons of the close messages the server sends a provider (`onClose`). */
export function closeReasons(provider: HocuspocusProvider): string[] {
  const reasons: string[] = [];
  provider.on('close', ({ event }: { event: { reason: string } }) => reasons.push(event.reason));
  return reasons;
}
