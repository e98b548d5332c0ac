/**
 * Which script the page shows: a switcher over the scripts this writer owns or collaborates on
 * (`GET /api/scripts`) and a "New script" button (a title prompt, then `POST /api/scripts`). Both
 * hand the chosen script to the page, which opens it in place.
 */
import type { ScriptsApi, ScriptSummary } from './scriptsApi.ts';

export interface ScriptMenuOptions {
  api: ScriptsApi;
  onSwitch: (scriptId: string) => void;
  say: (message: string | null, kind?: 'error' | 'info') => void;
}

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const ROLE_NAMES: Record<ScriptSummary['role'], string> = { owner: 'owner', editor: 'editor', viewer: 'viewer, read only', admin: 'administrator' };
const labelOf = (title: string, role: ScriptSummary['role']) => `${title} (${ROLE_NAMES[role]})`;

export class ScriptMenu {
  private currentId: string | null = null;
  private currentLabel: string | null = null;
  private scripts: ScriptSummary[] = [];

  constructor(private readonly options: ScriptMenuOptions) {
    element('scripts').hidden = false;
    element<HTMLSelectElement>('script-switcher').addEventListener('change', (event) => {
      const chosen = (event.target as HTMLSelectElement).value;
      if (chosen && chosen !== this.currentId) options.onSwitch(chosen);
    });
    element('script-new').addEventListener('click', () => void this.create());
  }

  /** The open script (its title too, for a script the list does not hold, e.g. an administrator's). */
  async show(scriptId: string, title: string, role: ScriptSummary['role']): Promise<void> {
    this.currentId = scriptId;
    this.currentLabel = labelOf(title, role);
    this.draw(); // at once: the switcher never names the script that was open before
    await this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this.scripts = await this.options.api.list();
    } catch (error) {
      this.options.say(`Your scripts could not be listed: ${(error as Error).message}`, 'error');
    }
    this.draw();
  }

  private draw(): void {
    const select = element<HTMLSelectElement>('script-switcher');
    const options = this.scripts.map((script) => new Option(labelOf(script.title, script.role), script.scriptUUID));
    if (this.currentId !== null && !this.scripts.some((script) => script.scriptUUID === this.currentId)) {
      options.unshift(new Option(this.currentLabel ?? 'This script', this.currentId));
    }
    select.replaceChildren(...options);
    if (this.currentId !== null) select.value = this.currentId;
  }

  private async create(): Promise<void> {
    const title = window.prompt('Title of the new script', 'Untitled')?.trim();
    if (!title) return;
    try {
      const script = await this.options.api.create(title);
      this.options.say(`Created “${script.title}”.`, 'info');
      this.options.onSwitch(script.scriptUUID);
    } catch (error) {
      this.options.say(`The script could not be created: ${(error as Error).message}`, 'error');
    }
  }
}
