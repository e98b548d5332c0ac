import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { findDemo } from '../demo/seed.ts';
import type { EditorPageConfig } from './pageConfig.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { SCREENPLAY_SCHEMA_VERSION } from '../screenplay/schema.ts';
import { projectRoot } from '../projectRoot.ts';
import { unavailable } from './errors.ts';

/** Where `npm run build:web` (scripts/build-web.ts) writes the page. */
export const DEFAULT_EDITOR_PAGE_DIR = path.join(projectRoot, 'dist', 'web');

export interface EditorPageOptions {
  /** The port of the separate collaboration WebSocket server (`PORT`), for clients that want it apart. */
  wsPort: number;
  /** The path under which the HTTP port serves the same WebSocket (`COLLAB_PATH`). */
  collabPath: string;
  /** `PUBLIC_WS_URL`: where the page's providers connect, when set. */
  publicWsUrl?: string | undefined;
  /** `PUBLIC_HTTP_URL`: the public address of this HTTP server (the page, the API), when set. */
  publicHttpUrl?: string | undefined;
  /** How often the page's scene list reads the scenes again (`SCENE_LIST_REFRESH_MS`). */
  sceneListRefreshMs: number;
  /** The built page; default dist/web. */
  distDir?: string;
}

export interface EditorPageDeps extends EditorPageOptions {
  prisma: PrismaClient;
  /** Development tokens are issued (src/auth/devTokens.ts): the page may sign in by itself and open the demo. */
  devTokens: boolean;
}


/**
 * The WebSocket URL the page is told to connect to: `PUBLIC_WS_URL` as given; else, when
 * `PUBLIC_HTTP_URL` is set, the same host (and path prefix) with ws(s) and the collaboration path,
 * which is what one reverse proxy in front of the HTTP port serves; else null, and the page
 * connects to the origin it was loaded from (web/collabUrl.ts), which behind one proxy is the same.
 */
export function publicCollabUrl(options: { publicWsUrl?: string | undefined; publicHttpUrl?: string | undefined; collabPath: string }): string | null {
  if (options.publicWsUrl) return options.publicWsUrl.replace(/\/+$/, '');
  if (!options.publicHttpUrl) return null;
  const http = new URL(options.publicHttpUrl);
  const protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  const prefix = http.pathname.replace(/\/+$/, '');
  return `${protocol}//${http.host}${prefix}${options.collabPath === '/' ? '' : options.collabPath}`;
}

/**
 * The page works only against this server's own API and WebSocket: scripts from this origin only,
 * styles from this origin (plus the inline styles ProseMirror and the carets set on elements),
 * WebSocket connections to the collaboration path or port (`PUBLIC_WS_URL` may name another host).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The screenplay editor page: `GET /` (the page), `/assets/*` (its script and styles) and
 * `GET /editor/config.json` (what the page needs to know about this server: where to connect,
 * the schema version, and in development the demo script). Mount before the API's 404 handler.
 */
export function editorPageRoutes(deps: EditorPageDeps): Router {
  const distDir = path.resolve(deps.distDir ?? DEFAULT_EDITOR_PAGE_DIR);
  const indexFile = path.join(distDir, 'index.html');
  const router = Router();

  router.get('/', (_req, res) => {
    // Checked per request, not at start-up: a build finishing after the server started is served.
    if (!existsSync(indexFile)) {
      throw unavailable(`The editor page has not been built (${indexFile} is missing): run "npm run build:web"`, 'EDITOR_PAGE_NOT_BUILT');
    }
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Always revalidated: the page names unversioned assets, and a stale page with a new server
      // (or the reverse) would send the wrong schema version.
      'Cache-Control': 'no-cache',
    });
    res.sendFile(indexFile);
  });

  router.use(
    '/assets',
    express.static(path.join(distDir, 'assets'), {
      index: false,
      redirect: false,
      setHeaders: (res) => {
        res.setHeader('Cache-Control', 'no-cache');
        res.setHeader('X-Content-Type-Options', 'nosniff');
      },
    }),
  );

  const wsUrl = publicCollabUrl(deps);
  router.get('/editor/config.json', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    const config: EditorPageConfig = {
      wsUrl,
      httpUrl: deps.publicHttpUrl ?? null,
      collabPath: deps.collabPath,
      wsPort: deps.wsPort,
      sceneListRefreshMs: deps.sceneListRefreshMs,
      schemaVersion: SCREENPLAY_SCHEMA_VERSION,
      devTokens: deps.devTokens,
      // Only where the server issues tokens itself; in production the demo does not exist.
      demo: deps.devTokens ? await findDemo(deps.prisma) : null,
    };
    res.json(config);
  });

  return router;
}
