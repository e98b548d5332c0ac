/**
 * Screenplay files over HTTP (src/http/interchange.ts): import a Fountain or Final Draft file as a
 * new script, export a script or a scene as Fountain, FDX or PDF. Downloads go through fetch with
 * the page's bearer token (a plain link could not send it), then a blob and an object URL.
 */
import type { ApiClient } from './api.ts';
import type { ScriptSummary } from './scriptsApi.ts';

export type ImportFormat = 'fountain' | 'fdx';
export type ExportFormat = 'fountain' | 'fdx' | 'pdf';

export const EXPORT_FORMATS: readonly { format: ExportFormat; label: string }[] = [
  { format: 'fountain', label: 'Fountain' },
  { format: 'fdx', label: 'FDX' },
  { format: 'pdf', label: 'PDF' },
];

/** The files the import takes, for the file input's `accept`. */
export const IMPORT_ACCEPT = '.fountain,.spmd,.txt,.fdx,.xml';

/** The format a file's name says (`.fdx`/`.xml` is Final Draft, `.fountain`/`.spmd`/`.txt` Fountain), else null: the server reads the file. */
export function importFormatOf(fileName: string): ImportFormat | null {
  const extension = /\.([^.]+)$/.exec(fileName.toLowerCase())?.[1];
  if (extension === 'fdx' || extension === 'xml') return 'fdx';
  if (extension === 'fountain' || extension === 'spmd' || extension === 'txt') return 'fountain';
  return null;
}

export interface ImportedScript extends ScriptSummary {
  format: ImportFormat;
  scenes: { sceneUUID: string; sceneIndex: number; slugline: string | null; block_count: number }[];
}

export class InterchangeApi {
  constructor(private readonly client: ApiClient) {}

  /** A new script from the file (400 with `location` when it is malformed, 413 when too large). */
  async importScript(file: File): Promise<ImportedScript> {
    const format = importFormatOf(file.name);
    return this.client.upload(`/api/scripts/import${format ? `?format=${format}` : ''}`, file);
  }

  /** The script, or one scene of it, as a file (the server names it after the title). */
  async export(target: { scriptId: string } | { sceneId: string }, format: ExportFormat): Promise<{ blob: Blob; fileName: string }> {
    const path =
      'sceneId' in target
        ? `/api/scenes/${encodeURIComponent(target.sceneId)}/export?format=${format}`
        : `/api/scripts/${encodeURIComponent(target.scriptId)}/export?format=${format}`;
    const { blob, fileName } = await this.client.download(path);
    return { blob, fileName: fileName ?? `screenplay.${format}` };
  }
}

/** Saves a blob as a file the browser downloads. */
export function saveFile(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL; give the browser a moment before it is freed.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
