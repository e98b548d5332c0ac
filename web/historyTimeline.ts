/**
 * The history panel's decisions, without the DOM: which entries the timeline shows and in what
 * order, how a session reads, which point a button acts on, and whether a route is there at all.
 * Tested in test/e2e/historyLogic.test.ts.
 */

/** One editing session as `GET /api/scenes/:id/sessions` returns it. */
export interface EditingSession {
  user_id: string | null;
  email: string | null;
  started_at: string;
  ended_at: string;
  rows: number;
  updates: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
}

/** A label (named version) as `GET /api/scenes/:id/labels` returns it. */
export interface SceneLabel {
  labelUUID: string;
  name: string;
  seq: number | null;
  labelled_at: string;
}

/** A point of the scene's history the buttons act on: restore and diff take a seq or a label exactly. */
export type HistoryPoint = { seq: number } | { label: string };

export type TimelineEntry =
  | { kind: 'session'; key: string; at: number; session: EditingSession }
  | { kind: 'label'; key: string; at: number; label: SceneLabel };

/**
 * Sessions (by their end) and labels (by the instant they name), newest first; ties keep labels
 * first. While older sessions are still to be loaded (`complete` false), labels older than the
 * oldest loaded session wait for them, so the timeline never shows a label out of its place.
 */
export function timelineEntries(sessions: readonly EditingSession[], labels: readonly SceneLabel[], complete = true): TimelineEntry[] {
  const oldest = sessions.reduce((min, session) => Math.min(min, Date.parse(session.ended_at)), Infinity);
  const shown = complete || sessions.length === 0 ? labels : labels.filter((label) => Date.parse(label.labelled_at) >= oldest);
  const entries: TimelineEntry[] = [
    ...shown.map((label) => ({ kind: 'label' as const, key: `label:${label.labelUUID}`, at: Date.parse(label.labelled_at), label })),
    ...sessions.map((session) => ({ kind: 'session' as const, key: `session:${session.last_seq}`, at: Date.parse(session.ended_at), session })),
  ];
  // Array.prototype.sort is stable: at equal instants labels stay ahead of sessions.
  return entries.sort((a, b) => b.at - a.at);
}

/** The point right after a session's last row (restore and diff are exact by seq). */
export function pointOfSession(session: EditingSession): HistoryPoint {
  return { seq: session.last_seq };
}

export function pointOfLabel(label: SceneLabel): HistoryPoint {
  return { label: label.labelUUID };
}

/** The `from` of `GET /api/scenes/:id/diff` for a point: digits are a seq, anything else a label. */
export function diffParameter(point: HistoryPoint): string {
  return 'seq' in point ? String(point.seq) : point.label;
}

/**
 * The instant a preview reads (`GET /api/scenes/:id/history?at=`): the end of the session. The
 * API's times keep milliseconds and the log microseconds, so the preview asks for the millisecond
 * after the end, which includes the session's last row (and anything else written in that millisecond).
 */
export function previewInstant(entry: TimelineEntry): string {
  const at = entry.kind === 'session' ? Date.parse(entry.session.ended_at) : Date.parse(entry.label.labelled_at);
  return new Date(at + 1).toISOString();
}

/** The writer's name as the panel shows it: the part of the email before the @, or "server". */
export function writerName(session: Pick<EditingSession, 'email' | 'user_id'>): string {
  if (session.email) return session.email.split('@')[0]!;
  return session.user_id === null ? 'server' : 'unknown writer';
}

/** A stable colour per writer (hue from the id), so one writer's sessions look alike down the list. */
export function writerColor(userId: string | null): string {
  if (userId === null) return 'hsl(0 0% 55%)';
  let hash = 0;
  for (const char of userId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 60% 42%)`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function clock(date: Date): string {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** "Mar 3, 10:03–10:15 · 42 edits · 1.2 kB" (one time when the session is a single instant's). */
export function describeSession(session: EditingSession): string {
  const start = new Date(session.started_at);
  const end = new Date(session.ended_at);
  const day = start.toLocaleDateString([], { month: 'short', day: 'numeric' });
  const span = clock(start) === clock(end) ? clock(start) : `${clock(start)}–${clock(end)}`;
  const edits = `${session.updates} edit${session.updates === 1 ? '' : 's'}`;
  return `${day}, ${span} · ${edits} · ${formatBytes(session.bytes)}`;
}

/**
 * Whether a failed call means the route itself is missing (an older server without labels, diff
 * or restore): the app answers an unmounted route with 404 and code NOT_FOUND, an unknown scene
 * or label with their own codes. The panel hides a missing route's button instead of failing.
 */
export function routeMissing(status: number, code: string | undefined): boolean {
  return status === 404 && (code === undefined || code === 'NOT_FOUND');
}

/** A diff's counts in one line: "2 added · 1 removed · 3 changed", or "no difference". */
export function diffSummary(diff: { added: unknown[]; removed: unknown[]; changed: unknown[] }): string {
  const parts = [
    diff.added.length > 0 ? `${diff.added.length} added` : null,
    diff.removed.length > 0 ? `${diff.removed.length} removed` : null,
    diff.changed.length > 0 ? `${diff.changed.length} changed` : null,
  ].filter((part): part is string => part !== null);
  return parts.length === 0 ? 'no difference' : parts.join(' · ');
}
