// What `GET /editor/config.json` answers, in one place for the server (src/http/editorPage.ts) and
// the page (web/api.ts). Types only, no imports: the page's bundle and its browser type check read it.

/** What the editor page needs to open the demo without asking anything: the script and who may write it. */
export interface DemoInfo {
  scriptId: string;
  title: string;
  users: { email: string; displayName: string; color: string }[];
}

/** `GET /editor/config.json`. */
export interface EditorPageConfig {
  /** `PUBLIC_WS_URL` (or derived from `PUBLIC_HTTP_URL`): where providers connect, without parameters; null: the page's own origin under `collabPath`. */
  wsUrl: string | null;
  /** `PUBLIC_HTTP_URL`, or null: the page calls the API on its own origin either way (relative URLs). */
  httpUrl: string | null;
  /** Where the HTTP port serves the collaboration WebSocket (`COLLAB_PATH`, default `/collab`). */
  collabPath: string;
  /** The separate WebSocket port (`PORT`); the page does not need it. */
  wsPort: number;
  /** How often the scene list reads the script's scenes again (`SCENE_LIST_REFRESH_MS`). */
  sceneListRefreshMs: number;
  schemaVersion: number;
  /** The server issues development tokens (`POST /api/dev/token`). */
  devTokens: boolean;
  demo: DemoInfo | null;
}
