/** The HTTP calls the editor page makes, typed as the server answers them. */

import type { EditorPageConfig as PageConfig } from '../src/http/pageConfig.ts';

export type { PageConfig };

export interface RestBlock {
  type: string;
  text?: string;
  [field: string]: unknown;
}

/** One scene as `GET /api/scripts/:id/scenes` and `GET /api/scenes/:id` return it. */
export interface SceneSummary {
  sceneUUID: string;
  scriptUUID: string;
  slugline: string | null;
  sceneIndex: number;
  content: { blocks: RestBlock[] };
}

/** A refused or failed call: the HTTP status, the server's stable `code` and the rest of its JSON error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as ({ error?: string; code?: string } & Record<string, unknown>) | null;
  const { error, code, ...details } = body ?? {};
  return new ApiError(response.status, typeof error === 'string' ? error : `${response.status} ${response.statusText}`, code, details);
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw await errorOf(response);
  const body = (await response.json().catch(() => null)) as T | null;
  if (body === null) throw new ApiError(response.status, 'the server answered with something that is not JSON');
  return body;
}

/** A bearer token, renewed by the page when it has expired. */
export type TokenSource = () => string | Promise<string>;

/**
 * The page's calls with its bearer token. A 401 is retried once with a fresh token when the
 * session can get one (development tokens die with the server process that signed them).
 */
export class ApiClient {
  constructor(
    private readonly token: TokenSource,
    private readonly freshToken: (() => Promise<string>) | null,
  ) {}

  private async send(path: string, init: RequestInit): Promise<Response> {
    const attempt = async (token: string) =>
      fetch(path, { cache: 'no-store', ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` } });
    const response = await attempt(await this.token());
    if (response.status !== 401 || !this.freshToken) return response;
    return attempt(await this.freshToken());
  }

  /** A JSON call; `body` is sent as JSON. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    return json<T>(await this.send(path, init));
  }

  /** Sends `file` as the body itself (not a form), with its own type or `application/octet-stream`. */
  async upload<T>(path: string, file: Blob): Promise<T> {
    return json<T>(await this.send(path, { method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream' }, body: file }));
  }

  /** A file the server sends, with the name its Content-Disposition gives. */
  async download(path: string): Promise<{ blob: Blob; fileName: string | null }> {
    const response = await this.send(path, { method: 'GET' });
    if (!response.ok) throw await errorOf(response);
    return { blob: await response.blob(), fileName: fileNameOf(response.headers.get('content-disposition')) };
  }
}

/** The file name of a Content-Disposition header: `filename*=UTF-8''...` first, else `filename="..."`. */
export function fileNameOf(disposition: string | null): string | null {
  if (!disposition) return null;
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (encoded) {
    try {
      return decodeURIComponent(encoded[1]!.trim());
    } catch {
      // A broken encoding: fall back to the plain name.
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"/i.exec(disposition) ?? /filename\s*=\s*([^;]+)/i.exec(disposition);
  return plain ? plain[1]!.trim() : null;
}

export async function fetchPageConfig(): Promise<PageConfig> {
  return json<PageConfig>(await fetch('/editor/config.json', { cache: 'no-store' }));
}

export async function fetchDevToken(email: string): Promise<{ token: string; userId: string }> {
  return json(
    await fetch('/api/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) }),
  );
}

/** The scene's heading: its first scene heading as typed, else the stored slugline, else null. */
export function sceneHeadingOf(scene: SceneSummary): string | null {
  const heading = scene.content.blocks.find((block) => block.type === 'scene_heading' && (block.text ?? '').trim() !== '');
  return (heading?.text ?? scene.slugline ?? '').trim() || null;
}

/**
 * The scene's title in the list: its heading, else "Untitled scene" (not its number, which the list
 * shows beside it and which changes whenever a scene before it moves).
 */
export function sceneTitle(scene: SceneSummary): string {
  return sceneHeadingOf(scene) ?? 'Untitled scene';
}
