/**
 * The history panel of the open scene: the writers' editing sessions and the labels on one
 * timeline, newest first; for each, a read-only preview of the scene then, a diff against now, and
 * restore; and a form that labels the scene as it is now. Restore is a forward change the server
 * applies to the live document, so this editor (and everyone else's) shows it by itself.
 */
import type { RestBlock } from './api.ts';
import { HistoryApi, HistoryApiError, type BlockDiff, type TokenSource } from './historyApi.ts';
import {
  describeSession,
  diffParameter,
  diffSummary,
  pointOfLabel,
  pointOfSession,
  previewInstant,
  routeMissing,
  timelineEntries,
  writerColor,
  writerName,
  type EditingSession,
  type HistoryPoint,
  type SceneLabel,
  type TimelineEntry,
} from './historyTimeline.ts';

/** How often the timeline is read again while the page is visible (others keep writing). */
const REFRESH_INTERVAL_MS = 20_000;

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

function button(label: string, action: string, onClick: () => void): HTMLButtonElement {
  const made = document.createElement('button');
  made.type = 'button';
  made.className = 'history__action';
  made.dataset.action = action;
  made.textContent = label;
  made.addEventListener('click', onClick);
  return made;
}

function blockElement(block: RestBlock, mark?: 'added' | 'removed'): HTMLElement {
  const line = document.createElement('div');
  line.className = `history-block history-block--${block.type}${mark ? ` history-block--${mark}` : ''}`;
  line.textContent = (block.text ?? '') || '\u00a0';
  return line;
}

export class HistoryPanel {
  private readonly api: HistoryApi;
  /** Routes this server does not have (404 NOT_FOUND): their buttons are hidden. */
  private readonly missing = new Set<'labels' | 'diff' | 'restore'>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Sessions loaded so far (the newest page, plus older pages asked for) and where the next page starts. */
  private sessions: EditingSession[] = [];
  private labels: SceneLabel[] = [];
  private olderCursor: string | null = null;
  private destroyed = false;
  private readonly onSubmit = (event: Event) => {
    event.preventDefault();
    void this.labelNow();
  };
  private readonly onRefresh = () => void this.refresh();
  private readonly onClose = () => this.closeView();
  private readonly onOlder = () => void this.loadOlder();

  /** `canWrite` false (a viewer): no label form and no Restore, which the server would refuse (403 READ_ONLY). */
  constructor(
    sceneId: string,
    token: TokenSource,
    private readonly canWrite = true,
  ) {
    this.api = new HistoryApi(sceneId, token);
    element('history').dataset.sceneId = sceneId;
    element('history-label-form').addEventListener('submit', this.onSubmit);
    element('history-refresh').addEventListener('click', this.onRefresh);
    element('history-view-close').addEventListener('click', this.onClose);
    element('history-older').addEventListener('click', this.onOlder);
    element('history-label-form').hidden = !canWrite;
    this.closeView();
    this.say(null);
    element('history-timeline').replaceChildren();
    void this.refresh();
    this.timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.refresh();
    }, REFRESH_INTERVAL_MS);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.timer) clearInterval(this.timer);
    element('history-label-form').removeEventListener('submit', this.onSubmit);
    element('history-refresh').removeEventListener('click', this.onRefresh);
    element('history-view-close').removeEventListener('click', this.onClose);
    element('history-older').removeEventListener('click', this.onOlder);
  }

  /** Reads the newest sessions and the labels again and redraws the timeline (older pages are dropped). */
  async refresh(): Promise<void> {
    try {
      const [page, labels] = await Promise.all([this.api.sessions(null), this.optional('labels', () => this.api.labels(), [])]);
      if (this.destroyed) return;
      this.sessions = page.sessions;
      this.olderCursor = page.next_cursor;
      this.labels = labels;
      this.render();
    } catch (error) {
      if (!this.destroyed) this.say(`History could not be read: ${(error as Error).message}`, 'error');
    }
  }

  /** The next page of older sessions, appended below. */
  private async loadOlder(): Promise<void> {
    if (this.olderCursor === null) return;
    try {
      const page = await this.api.sessions(this.olderCursor);
      if (this.destroyed) return;
      this.sessions = [...this.sessions, ...page.sessions];
      this.olderCursor = page.next_cursor;
      this.render();
    } catch (error) {
      this.say(`Older sessions could not be read: ${(error as Error).message}`, 'error');
    }
  }

  /** A call to a route another server version may lack: a 404 NOT_FOUND hides it and gives `fallback`. */
  private async optional<T>(route: 'labels' | 'diff' | 'restore', call: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof HistoryApiError && routeMissing(error.status, error.code)) {
        this.missing.add(route);
        element('history-label-form').hidden = !this.canWrite || this.missing.has('labels');
        return fallback;
      }
      throw error;
    }
  }

  private render(): void {
    const entries = timelineEntries(this.sessions, this.labels, this.olderCursor === null);
    const list = element('history-timeline');
    element('history-label-form').hidden = !this.canWrite || this.missing.has('labels');
    element('history-older').hidden = this.olderCursor === null;
    if (entries.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'history__empty';
      empty.textContent = 'No edits yet.';
      list.replaceChildren(empty);
      return;
    }
    list.replaceChildren(...entries.map((entry) => this.entryElement(entry)));
  }

  private entryElement(entry: TimelineEntry): HTMLLIElement {
    const item = document.createElement('li');
    item.className = `history__entry history__entry--${entry.kind}`;
    item.dataset.kind = entry.kind;
    const head = document.createElement('div');
    head.className = 'history__entry-head';
    let point: HistoryPoint;
    let title: string;
    if (entry.kind === 'session') {
      const { session } = entry;
      point = pointOfSession(session);
      item.dataset.seq = String(session.last_seq);
      const dot = document.createElement('span');
      dot.className = 'history__dot';
      dot.style.backgroundColor = writerColor(session.user_id);
      const who = document.createElement('strong');
      who.textContent = writerName(session);
      who.title = session.email ?? '';
      const what = document.createElement('span');
      what.className = 'history__meta';
      what.textContent = describeSession(session);
      head.append(dot, who, ' ', what);
      title = `${writerName(session)}, ${describeSession(session)}`;
    } else {
      const { label } = entry;
      point = pointOfLabel(label);
      item.dataset.labelId = label.labelUUID;
      if (label.seq !== null) item.dataset.seq = String(label.seq);
      const tag = document.createElement('span');
      tag.className = 'history__tag';
      tag.textContent = label.name;
      const when = document.createElement('span');
      when.className = 'history__meta';
      when.textContent = new Date(label.labelled_at).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
      head.append(tag, ' ', when);
      title = `label “${label.name}”`;
    }
    const actions = document.createElement('div');
    actions.className = 'history__actions';
    actions.append(button('Preview', 'preview', () => void this.preview(entry, title)));
    if (!this.missing.has('diff')) actions.append(button('Diff vs now', 'diff', () => void this.diff(point, title)));
    if (this.canWrite && !this.missing.has('restore')) actions.append(button('Restore', 'restore', () => void this.restore(point, title)));
    item.append(head, actions);
    return item;
  }

  private async preview(entry: TimelineEntry, title: string): Promise<void> {
    try {
      const { blocks } = await this.api.contentAt(previewInstant(entry));
      this.showView(`Preview: ${title}`, 'preview', blocks.length === 0 ? [this.note('The scene was empty.')] : blocks.map((block) => blockElement(block)));
    } catch (error) {
      this.say(`Preview failed: ${(error as Error).message}`, 'error');
    }
  }

  private async diff(point: HistoryPoint, title: string): Promise<void> {
    try {
      const diff = await this.optional('diff', () => this.api.diffToNow(diffParameter(point)), null);
      if (diff === null) {
        this.say('This server has no diff.', 'info');
        void this.refresh();
        return;
      }
      this.showView(`Changes since ${title}: ${diffSummary(diff)}`, 'diff', this.diffElements(diff));
    } catch (error) {
      this.say(`Diff failed: ${(error as Error).message}`, 'error');
    }
  }

  private diffElements(diff: BlockDiff): HTMLElement[] {
    const lines: HTMLElement[] = [];
    for (const { block } of diff.removed) lines.push(blockElement(block, 'removed'));
    for (const change of diff.changed) {
      lines.push(blockElement(change.before, 'removed'), blockElement(change.after, 'added'));
    }
    for (const { block } of diff.added) lines.push(blockElement(block, 'added'));
    return lines.length === 0 ? [this.note('No difference.')] : lines;
  }

  private async restore(point: HistoryPoint, title: string): Promise<void> {
    try {
      const result = await this.optional('restore', () => this.api.restore(point), null);
      if (result === null) {
        this.say('This server cannot restore.', 'info');
      } else {
        this.say(result.changed ? `Restored ${title}. Everyone editing sees it now.` : `The scene already is ${title}.`, 'info');
      }
      this.closeView();
      await this.refresh();
    } catch (error) {
      this.say(`Restore failed: ${(error as Error).message}`, 'error');
    }
  }

  private async labelNow(): Promise<void> {
    const input = element<HTMLInputElement>('history-label-name');
    const name = input.value.trim();
    if (!name) return;
    try {
      const made = await this.optional('labels', () => this.api.label(name), null);
      if (made === null) return;
      input.value = '';
      this.say(`Labelled “${made.name}”.`, 'info');
      await this.refresh();
    } catch (error) {
      this.say(`Label failed: ${(error as Error).message}`, 'error');
    }
  }

  private note(text: string): HTMLElement {
    const note = document.createElement('p');
    note.className = 'history__note';
    note.textContent = text;
    return note;
  }

  private showView(title: string, kind: 'preview' | 'diff', body: HTMLElement[]): void {
    const view = element('history-view');
    view.hidden = false;
    view.dataset.kind = kind;
    element('history-view-title').textContent = title;
    element('history-view-body').replaceChildren(...body);
  }

  private closeView(): void {
    element('history-view').hidden = true;
    element('history-view-body').replaceChildren();
  }

  private say(message: string | null, kind: 'error' | 'info' = 'info'): void {
    const line = element('history-message');
    line.hidden = message === null;
    line.textContent = message ?? '';
    line.dataset.kind = kind;
  }
}
