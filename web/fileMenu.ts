/**
 * Screenplay files on the page: "Import…" takes a Fountain or Final Draft file and opens the new
 * script; the export buttons download the script, or the open scene, as Fountain, FDX or PDF. A
 * file the server refuses is reported with where it broke (the 400's `location`).
 */
import { ApiError } from './api.ts';
import { EXPORT_FORMATS, IMPORT_ACCEPT, saveFile, type ExportFormat, type ImportedScript, type InterchangeApi } from './interchangeApi.ts';

export interface FileMenuOptions {
  api: InterchangeApi;
  /** The script and scene the export buttons export (read at each click). */
  current: () => { scriptId: string | null; sceneId: string | null };
  onImported: (script: ImportedScript) => void;
  say: (message: string | null, kind?: 'error' | 'info') => void;
}

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** What the writer reads when an import is refused: the server's sentence (it names the line or element), and the code. */
export function importRefusal(fileName: string, error: unknown): string {
  if (!(error instanceof ApiError)) return `Importing ${fileName} failed: ${(error as Error).message}`;
  const location = error.details.location as { line?: number; column?: number; element?: string } | undefined;
  const where = location?.line !== undefined ? ` at line ${location.line}${location.column !== undefined ? `, column ${location.column}` : ''}` : '';
  const said = where && !error.message.includes(`line ${location!.line}`) ? `${error.message}${where}` : error.message;
  if (error.status === 413) return `${fileName} is too large to import: ${said}`;
  return `${fileName} could not be imported: ${said}${error.code ? ` (${error.code})` : ''}`;
}

export class FileMenu {
  constructor(private readonly options: FileMenuOptions) {
    const input = element<HTMLInputElement>('script-import-file');
    input.accept = IMPORT_ACCEPT;
    element('script-import').addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      input.value = '';
      if (file) void this.import(file);
    });
    for (const target of ['script', 'scene'] as const) {
      const row = element(`export-${target}`);
      row.replaceChildren(
        ...EXPORT_FORMATS.map(({ format, label }) => {
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'export-button';
          button.dataset.format = format;
          button.textContent = label;
          button.title = `Download the ${target} as ${format === 'fdx' ? 'Final Draft (FDX)' : label}`;
          button.addEventListener('click', () => void this.export(target, format, button));
          return button;
        }),
      );
    }
    element('export').hidden = false;
  }

  /** The scene row is usable only while a scene is open. */
  update(): void {
    const { scriptId, sceneId } = this.options.current();
    for (const button of element('export-script').querySelectorAll('button')) button.disabled = scriptId === null;
    for (const button of element('export-scene').querySelectorAll('button')) button.disabled = sceneId === null;
  }

  private async import(file: File): Promise<void> {
    this.options.say(`Importing ${file.name}…`, 'info');
    try {
      const script = await this.options.api.importScript(file);
      this.options.say(`Imported ${file.name}: “${script.title}”, ${script.scenes.length} scene${script.scenes.length === 1 ? '' : 's'}.`, 'info');
      this.options.onImported(script);
    } catch (error) {
      this.options.say(importRefusal(file.name, error), 'error');
    }
  }

  private async export(target: 'script' | 'scene', format: ExportFormat, button: HTMLButtonElement): Promise<void> {
    const { scriptId, sceneId } = this.options.current();
    const what = target === 'script' ? (scriptId ? { scriptId } : null) : sceneId ? { sceneId } : null;
    if (!what) return;
    button.disabled = true;
    try {
      const { blob, fileName } = await this.options.api.export(what, format);
      saveFile(blob, fileName);
    } catch (error) {
      this.options.say(`Export failed: ${(error as Error).message}`, 'error');
    } finally {
      button.disabled = false;
    }
  }
}
