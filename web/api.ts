/** The HTTP calls the editor page makes, typed as the server answers them. */

export interface DemoInfo {
  scriptId: string;
  title: string;
  users: { email: string; displayName: string; color: string }[];
}

/** `GET /editor/config.json` (src/http/editorPage.ts). */
export interface PageConfig {
  wsPort: number;
  schemaVersion: number;
  /** The server issues development tokens (`POST /api/dev/token`). */
  devTokens: boolean;
  demo: DemoInfo | null;
}

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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as (T & { error?: string }) | null;
  if (!response.ok) throw new ApiError(response.status, body?.error ?? `${response.status} ${response.statusText}`);
  if (body === null) throw new ApiError(response.status, 'the server answered with something that is not JSON');
  return body;
}

export async function fetchPageConfig(): Promise<PageConfig> {
  return json<PageConfig>(await fetch('/editor/config.json', { cache: 'no-store' }));
}

export async function fetchDevToken(email: string): Promise<{ token: string; userId: string }> {
  return json(
    await fetch('/api/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) }),
  );
}

export async function fetchScenes(scriptId: string, token: string): Promise<SceneSummary[]> {
  const body = await json<{ scenes: SceneSummary[] }>(
    await fetch(`/api/scripts/${encodeURIComponent(scriptId)}/scenes`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' }),
  );
  return body.scenes;
}

/** The scene's title in the list: its first scene heading as typed, else the stored slugline. */
export function sceneTitle(scene: SceneSummary): string {
  const heading = scene.content.blocks.find((block) => block.type === 'scene_heading' && (block.text ?? '').trim() !== '');
  return (heading?.text ?? scene.slugline ?? '').trim() || `Scene ${scene.sceneIndex + 1}`;
}
