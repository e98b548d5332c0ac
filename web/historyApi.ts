/** The history panel's HTTP calls (src/http/versions.ts, scenes.ts, labels.ts, restore.ts, diff.ts). */
import type { RestBlock } from './api.ts';
import type { EditingSession, HistoryPoint, SceneLabel } from './historyTimeline.ts';

export class HistoryApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryApiError';
  }
}

export interface BlockDiff {
  added: Array<{ index: number; block: RestBlock }>;
  removed: Array<{ index: number; block: RestBlock }>;
  changed: Array<{ from_index: number; to_index: number; before: RestBlock; after: RestBlock }>;
  unchanged: number;
}

/** A bearer token, renewed by the page when it has expired. */
export type TokenSource = () => string | Promise<string>;

export class HistoryApi {
  constructor(
    private readonly sceneId: string,
    private readonly token: TokenSource,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`/api/scenes/${encodeURIComponent(this.sceneId)}${path}`, {
      method,
      headers,
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const parsed = (await response.json().catch(() => null)) as (T & { error?: string; code?: string }) | null;
    if (!response.ok) throw new HistoryApiError(response.status, parsed?.code, parsed?.error ?? `${response.status} ${response.statusText}`);
    if (parsed === null) throw new HistoryApiError(response.status, undefined, 'the server answered with something that is not JSON');
    return parsed;
  }

  /** One page of sessions, newest first; `cursor` is the previous page's `next_cursor`. */
  async sessions(cursor: string | null, limit = 50): Promise<{ sessions: EditingSession[]; next_cursor: string | null }> {
    return this.call('GET', `/sessions?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  }

  async labels(): Promise<SceneLabel[]> {
    return (await this.call<{ labels: SceneLabel[] }>('GET', '/labels')).labels;
  }

  async contentAt(at: string): Promise<{ seq: number | null; blocks: RestBlock[] }> {
    const body = await this.call<{ seq: number | null; content: { blocks: RestBlock[] } }>('GET', `/history?at=${encodeURIComponent(at)}`);
    return { seq: body.seq, blocks: body.content.blocks };
  }

  async diffToNow(from: string): Promise<BlockDiff> {
    return this.call<BlockDiff>('GET', `/diff?from=${encodeURIComponent(from)}`);
  }

  async restore(point: HistoryPoint): Promise<{ changed: boolean; seq: number | null }> {
    return this.call('POST', '/restore', point);
  }

  async label(name: string): Promise<SceneLabel> {
    return this.call('POST', '/labels', { name });
  }
}
