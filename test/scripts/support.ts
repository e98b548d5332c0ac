import { connectClient, CURRENT_EDITOR, type TestClient } from '../helpers/clients.ts';

export type Outcome = { ok: true; scope: string } | { ok: false; reason: string };

/** A provider as the editor opens it, its authentication outcome as a promise, and every close the server sent it (code and reason). */
export function openWatched(url: string, sceneId: string, token: string): { client: TestClient; outcome: Promise<Outcome>; closes: { code: number; reason: string }[] } {
  let settle!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  const client = connectClient(url, sceneId, { parameters: CURRENT_EDITOR, token, onAuthenticationFailed: (reason) => settle({ ok: false, reason }) });
  client.provider.on('authenticated', ({ scope }: { scope: string }) => settle({ ok: true, scope }));
  const closes: { code: number; reason: string }[] = [];
  client.provider.on('close', ({ event }: { event: { code: number; reason: string } }) => closes.push({ code: event.code, reason: event.reason }));
  const timeout = setTimeout(() => settle({ ok: false, reason: 'test: no answer within 10 s' }), 10_000);
  void outcome.then(() => clearTimeout(timeout));
  return { client, outcome, closes };
}
