import type { PageConfig } from './api.ts';

/**
 * Where the page's providers connect, without parameters (the editor adds `?schemaVersion=`): the
 * URL the server was configured with (`PUBLIC_WS_URL`, or derived from `PUBLIC_HTTP_URL`), else
 * this page's own origin under the collaboration path, ws(s)://<host>[:<port>]/collab. The page is
 * served by the HTTP port, which serves the WebSocket too, so behind one reverse proxy (one TLS
 * port) the default just works, and no other port has to be reachable.
 */
export function collabUrl(config: PageConfig, page: Pick<Location, 'protocol' | 'host'> = window.location): string {
  if (config.wsUrl) return config.wsUrl;
  const protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${page.host}${config.collabPath === '/' ? '' : config.collabPath}`;
}
