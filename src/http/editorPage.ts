import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { findDemo } from '../demo/seed.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { SCREENPLAY_SCHEMA_VERSION } from '../screenplay/schema.ts';
import { unavailable } from './errors.ts';

/** Where `npm run build:web` (scripts/build-web.ts) writes the page. */
export const DEFAULT_EDITOR_PAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');

export interface EditorPageOptions {
  /** The port of the collaboration WebSocket server; the page connects to it on the host it was loaded from. */
  wsPort: number;
  /** The built page; default dist/web. */
  distDir?: string;
}

export interface EditorPageDeps extends EditorPageOptions {
  prisma: PrismaClient;
  /** Development tokens are issued (src/auth/devTokens.ts): the page may sign in by itself and open the demo. */
  devTokens: boolean;
}

/**
 * The page works only against this server's own API and WebSocket: scripts from this origin only,
 * styles from this origin (plus the inline styles ProseMirror and the carets set on elements),
 * WebSocket connections to the collaboration port, which is another origin by port.
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
 * `GET /editor/config.json` (what the page needs to know about this server: the WebSocket port,
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

  router.get('/editor/config.json', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json({
      wsPort: deps.wsPort,
      schemaVersion: SCREENPLAY_SCHEMA_VERSION,
      devTokens: deps.devTokens,
      // Only where the server issues tokens itself; in production the demo does not exist.
      demo: deps.devTokens ? await findDemo(deps.prisma) : null,
    });
  });

  return router;
}
