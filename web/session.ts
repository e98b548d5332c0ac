import { fetchDevToken, type PageConfig } from './api.ts';
import type { CaretUser } from './collaborationCaret.ts';

/**
 * Who is writing, with which token, in which script. In development the server issues tokens and
 * seeds a demo script, so the page signs in by itself; otherwise the writer pastes a token and a
 * script id (or opens a link with `#token=...&script=...`), kept for this tab only.
 */
export interface Session {
  scriptId: string;
  scriptTitle: string | null;
  user: CaretUser;
  token: string;
  /** Gets a new token (development tokens do not survive a server restart); absent for pasted tokens. */
  refresh?: () => Promise<string>;
  /** The demo writers this tab can switch between (development only). */
  demoUsers: { email: string; displayName: string; color: string; current: boolean }[];
}

const STORAGE_KEY = 'writersroom.session';
const PALETTE = ['#d9480f', '#1971c2', '#2f9e44', '#9c36b5', '#e8590c', '#0c8599', '#c2255c', '#5c940d'];

interface StoredSession {
  token: string;
  scriptId: string;
  name: string;
}

export function colorFor(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/** A link such as `/#token=<jwt>&script=<uuid>&name=Ana` signs this tab in; the fragment is then removed from the address bar. */
function takeSessionFromFragment(): StoredSession | null {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get('token');
  const scriptId = fragment.get('script');
  if (!token || !scriptId) return null;
  const stored = { token, scriptId, name: fragment.get('name') ?? 'Writer' };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return stored;
}

function storedSession(): StoredSession | null {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof parsed.token === 'string' && typeof parsed.scriptId === 'string') {
      return { token: parsed.token, scriptId: parsed.scriptId, name: typeof parsed.name === 'string' ? parsed.name : 'Writer' };
    }
  } catch {
    // A damaged entry is the same as none: the sign-in form asks again.
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return null;
}

export function saveSession(stored: StoredSession): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
}

export function forgetSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The session this tab runs with, or null when the writer has to sign in. */
export async function resolveSession(config: PageConfig): Promise<Session | null> {
  const params = new URLSearchParams(window.location.search);
  const manual = takeSessionFromFragment() ?? storedSession();
  if (manual) {
    return {
      scriptId: manual.scriptId,
      scriptTitle: null,
      user: { name: manual.name, color: colorFor(manual.name) },
      token: manual.token,
      demoUsers: [],
    };
  }
  if (!config.devTokens || !config.demo) return null;

  const demo = config.demo;
  const wanted = params.get('user');
  const chosen = demo.users.find((user) => user.email === wanted) ?? demo.users[0];
  if (!chosen) return null;
  const refresh = async () => (await fetchDevToken(chosen.email)).token;
  return {
    scriptId: params.get('script') ?? demo.scriptId,
    scriptTitle: demo.title,
    user: { name: chosen.displayName, color: chosen.color },
    token: await refresh(),
    refresh,
    demoUsers: demo.users.map((user) => ({ ...user, current: user.email === chosen.email })),
  };
}
