/**
 * The scripts API the page calls (src/http/scripts.ts, and the scene reads of src/http/scenes.ts):
 * scripts, their scenes' order and life. Typed as the server answers.
 */
import type { ApiClient, RestBlock, SceneSummary } from './api.ts';

export type ScriptRole = 'owner' | 'editor' | 'viewer' | 'admin';

/** One script as `POST`/`GET /api/scripts` and `GET /api/scripts/:id` answer. */
export interface ScriptSummary {
  scriptUUID: string;
  title: string;
  title_page: Record<string, string> | null;
  owner_id: string;
  role: ScriptRole;
  scene_count?: number;
  created_at: string;
  updated_at: string;
}

/** A scene's place, as the order routes answer (`sceneIndex` null once deleted). */
export interface SceneEntry {
  sceneUUID: string;
  sceneIndex: number | null;
  slugline: string | null;
  deleted_at: string | null;
}

export interface DeletedScene extends SceneEntry {
  restorable_until: string;
}

/** One scene with its content and the seq it was read at (`GET /api/scenes/:id`). */
export interface SceneView extends SceneSummary {
  seq: number | null;
}

/** Viewers read only; owners, editors and administrators change the script (the routes' `READ_ONLY` rule). */
export function canWrite(role: ScriptRole): boolean {
  return role !== 'viewer';
}

const script = (scriptId: string) => `/api/scripts/${encodeURIComponent(scriptId)}`;
const scene = (scriptId: string, sceneId: string) => `${script(scriptId)}/scenes/${encodeURIComponent(sceneId)}`;

export class ScriptsApi {
  constructor(private readonly client: ApiClient) {}

  async list(): Promise<ScriptSummary[]> {
    return (await this.client.json<{ scripts: ScriptSummary[] }>('GET', '/api/scripts')).scripts;
  }

  async get(scriptId: string): Promise<ScriptSummary & { scenes: SceneEntry[] }> {
    return this.client.json('GET', script(scriptId));
  }

  async create(title: string): Promise<ScriptSummary> {
    return this.client.json('POST', '/api/scripts', { title });
  }

  /** The live scenes in order, with their content (`GET /api/scripts/:id/scenes`). */
  async scenes(scriptId: string): Promise<SceneSummary[]> {
    return (await this.client.json<{ scenes: SceneSummary[] }>('GET', `${script(scriptId)}/scenes`)).scenes;
  }

  /** A new scene at `position` (default: the end) holding `blocks`, else its heading as its first block when one is given. */
  async addScene(scriptId: string, options: { position?: number; heading?: string; blocks?: RestBlock[] }): Promise<{ scene: SceneSummary; scenes: SceneEntry[] }> {
    const body: { position?: number; heading?: string; blocks?: RestBlock[] } = {};
    if (options.position !== undefined) body.position = options.position;
    if (options.heading) {
      body.heading = options.heading;
      body.blocks = [{ type: 'scene_heading', text: options.heading }];
    }
    if (options.blocks) body.blocks = options.blocks;
    return this.client.json('POST', `${script(scriptId)}/scenes`, body);
  }

  async moveScene(scriptId: string, sceneId: string, position: number): Promise<{ scenes: SceneEntry[] }> {
    return this.client.json('PATCH', scene(scriptId, sceneId), { position });
  }

  async setSlugline(scriptId: string, sceneId: string, heading: string): Promise<{ scenes: SceneEntry[] }> {
    return this.client.json('PATCH', scene(scriptId, sceneId), { heading });
  }

  async deleteScene(scriptId: string, sceneId: string): Promise<{ scenes: SceneEntry[]; restorable_until: string }> {
    return this.client.json('DELETE', scene(scriptId, sceneId));
  }

  async restoreScene(scriptId: string, sceneId: string): Promise<{ scenes: SceneEntry[] }> {
    return this.client.json('POST', `${scene(scriptId, sceneId)}/restore`);
  }

  async deletedScenes(scriptId: string): Promise<DeletedScene[]> {
    return (await this.client.json<{ scenes: DeletedScene[] }>('GET', `${script(scriptId)}/deleted-scenes`)).scenes;
  }

  async readScene(sceneId: string): Promise<SceneView> {
    return this.client.json('GET', `/api/scenes/${encodeURIComponent(sceneId)}`);
  }

  /** New content merged with every edit made since `baseSeq` (the PATCH path; null: the scene has no log yet). */
  async patchContent(sceneId: string, blocks: RestBlock[], baseSeq: number | null): Promise<unknown> {
    return this.client.json('PATCH', `/api/scenes/${encodeURIComponent(sceneId)}/content`, baseSeq === null ? { blocks } : { blocks, base_seq: baseSeq });
  }
}
