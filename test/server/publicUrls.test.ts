import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { publicCollabUrl } from '../../src/http/editorPage.ts';
import { collabUrl } from '../../web/collabUrl.ts';
import type { PageConfig } from '../../web/api.ts';
import { describeEachServer } from '../helpers/server.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('COLLAB_PATH, PUBLIC_WS_URL, PUBLIC_HTTP_URL, EDITOR_SCHEMA_GATE', () => {
  it('defaults to /collab, no public URLs and the strict gate', () => {
    const config = loadConfig({});
    expect([config.collabPath, config.publicUrls, config.editorSchemaGate]).toEqual(['/collab', { ws: undefined, http: undefined }, 'strict']);
  });

  it('takes valid values', () => {
    const config = loadConfig({ COLLAB_PATH: '/ws/yjs', PUBLIC_WS_URL: 'wss://a.example/collab', PUBLIC_HTTP_URL: 'https://a.example', EDITOR_SCHEMA_GATE: 'lenient' });
    expect([config.collabPath, config.publicUrls, config.editorSchemaGate]).toEqual(['/ws/yjs', { ws: 'wss://a.example/collab', http: 'https://a.example' }, 'lenient']);
  });

  it('lists every bad value with what it must be', () => {
    expect(problemsOf({ COLLAB_PATH: 'collab', PUBLIC_WS_URL: 'https://a.example', PUBLIC_HTTP_URL: 'ws://a.example', EDITOR_SCHEMA_GATE: 'loose' })).toEqual([
      expect.stringMatching(/^COLLAB_PATH: must be a path such as \/collab/),
      'PUBLIC_WS_URL: must be a URL starting with ws:// or wss://',
      'PUBLIC_HTTP_URL: must be a URL starting with http:// or https://',
      expect.stringMatching(/^EDITOR_SCHEMA_GATE: /),
    ]);
    for (const path of ['/collab/', '/collab?x=1', '', '/a b']) expect(problemsOf({ COLLAB_PATH: path }), path).toHaveLength(1);
    expect(problemsOf({ PUBLIC_WS_URL: 'wss://a.example/collab?schemaVersion=1', PUBLIC_HTTP_URL: 'https://a.example/#x' })).toEqual([
      'PUBLIC_WS_URL: must not carry a query or a fragment (wss://a.example/collab?schemaVersion=1)',
      'PUBLIC_HTTP_URL: must not carry a query or a fragment (https://a.example/#x)',
    ]);
  });
});

describe('where the page connects', () => {
  const cases: Array<[string, { publicWsUrl?: string; publicHttpUrl?: string; collabPath: string }, string | null]> = [
    ['nothing configured: the page decides', { collabPath: '/collab' }, null],
    ['PUBLIC_WS_URL as given', { publicWsUrl: 'wss://ws.example/sync', publicHttpUrl: 'https://a.example', collabPath: '/collab' }, 'wss://ws.example/sync'],
    ['PUBLIC_WS_URL without its trailing slash', { publicWsUrl: 'ws://10.0.0.1:9000/', collabPath: '/collab' }, 'ws://10.0.0.1:9000'],
    ['PUBLIC_HTTP_URL on https: wss, same host', { publicHttpUrl: 'https://a.example', collabPath: '/collab' }, 'wss://a.example/collab'],
    ['PUBLIC_HTTP_URL with a port and a path prefix', { publicHttpUrl: 'http://a.example:8080/room/', collabPath: '/collab' }, 'ws://a.example:8080/room/collab'],
    ['PUBLIC_HTTP_URL with COLLAB_PATH=/', { publicHttpUrl: 'https://a.example', collabPath: '/' }, 'wss://a.example'],
  ];
  it.each(cases)('server: %s', (_name, options, expected) => expect(publicCollabUrl(options)).toBe(expected));

  const page = (wsUrl: string | null, collabPath = '/collab'): PageConfig => ({ wsUrl, httpUrl: null, collabPath, wsPort: 1234, sceneListRefreshMs: 8000, schemaVersion: 1, devTokens: false, demo: null });
  const pageCases: Array<[string, PageConfig, Pick<Location, 'protocol' | 'host'>, string]> = [
    ['its own origin and the path', page(null), { protocol: 'http:', host: '127.0.0.1:3000' }, 'ws://127.0.0.1:3000/collab'],
    ['behind TLS on 443', page(null), { protocol: 'https:', host: 'writers.example' }, 'wss://writers.example/collab'],
    ['the configured URL first', page('wss://ws.example/sync'), { protocol: 'http:', host: '127.0.0.1:3000' }, 'wss://ws.example/sync'],
    ['COLLAB_PATH=/', page(null, '/'), { protocol: 'http:', host: 'localhost:3000' }, 'ws://localhost:3000'],
  ];
  it.each(pageCases)('page: %s', (_name, config, location, expected) => expect(collabUrl(config, location)).toBe(expected));
});

describeEachServer('GET /editor/config.json', { kinds: ['postgres'], env: { PUBLIC_HTTP_URL: 'https://writers.example' } }, ({ app }) => {
  it('tells the page the public URLs, the path and the separate port', async () => {
    const response = await fetch(`${app().httpUrl}/editor/config.json`);
    expect(await response.json()).toMatchObject({
      wsUrl: 'wss://writers.example/collab',
      httpUrl: 'https://writers.example',
      collabPath: '/collab',
      wsPort: app().wsPort,
      schemaVersion: 1,
    });
  });
});
