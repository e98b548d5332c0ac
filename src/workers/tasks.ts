// The CPU-heavy, pure Yjs work that may leave the thread serving editors: each task is a plain
// function of plain data, run either in a worker thread (worker.ts) or on the calling thread
// (the inline `YjsWork` of pool.ts). Both run exactly this code, so their results are the same.
import * as Y from 'yjs';
import { blamePage, type BlamePage } from '../history/blameReplay.ts';
import type { ScreenplayDocument } from '../interchange/document.ts';
import { InterchangeParseError, type InterchangeErrorCode, type InterchangeErrorLocation, type InterchangeFormat } from '../interchange/errors.ts';
import { serializeFdx } from '../interchange/fdx.ts';
import { serializeFountain } from '../interchange/fountain.ts';
import { parseScreenplayFile } from '../interchange/parse.ts';
import type { PdfOptions } from '../interchange/pdf.ts';
import { unpackUpdates } from '../log/packed.ts';
import { replayUpdateList, type ListReplay } from '../log/replay.ts';
import {
  applyRestBlocksToYDoc,
  applyTiptapJSONToYDoc,
  checksumBlocks,
  InvalidRestBlocksError,
  ScreenplayConversionError,
  yDocToRestBlocks,
  type CanonicalRestBlock,
  type RestBlockIssue,
  type ScreenplayConversionErrorCode,
} from '../screenplay/index.ts';

/** New content for a scene: REST blocks or TipTap (ProseMirror) JSON, already validated. */
export type SceneContentInput = { blocks: unknown[] } | { doc: Record<string, unknown> };

/** A scene's blocks derived from its rows, and what the replay found on the way. */
export interface DerivedBlocks {
  blocks: CanonicalRestBlock[];
  applied: number;
  undecodable: ListReplay['undecodable'];
  hasGap: boolean;
}

/**
 * Many updates travel packed (src/log/packed.ts): structured cloning 100,000 small arrays costs a
 * serialisation step per array, one buffer costs a copy or nothing.
 */
export type YjsTask =
  /** `replayUpdateList`: the state the updates rebuild. */
  | { kind: 'replay'; packed: Uint8Array }
  /** Replay, then the blocks of the state: a scene's content from its log in one trip. */
  | { kind: 'derive'; packed: Uint8Array }
  /** The blocks of a state. */
  | { kind: 'blocks'; state: Uint8Array }
  /** A state (none: empty) with packed rows applied on top, and its blocks: content kept current from the rows after a known seq. */
  | { kind: 'advance'; state: Uint8Array | null; packed: Uint8Array }
  /** The update that turns `base` into `input` with the fewest changes (a PATCH). */
  | { kind: 'contentUpdate'; base: Uint8Array; input: SceneContentInput }
  /** One page of blame (src/history/blameReplay.ts): the page's rows on top of the state before them. */
  | { kind: 'blamePage'; state: Uint8Array | null; packed: Uint8Array }
  /** A state's REST copy as the snapshot write stores it: blocks, their JSON and checksum. */
  | { kind: 'restCopy'; state: Uint8Array }
  /** An imported file read into a document (src/interchange): a 2 MiB file takes up to a second or so. */
  | { kind: 'parseScreenplay'; bytes: Uint8Array; format: InterchangeFormat }
  /** A document written as an export file: Fountain or FDX text, or the PDF's bytes. */
  | { kind: 'writeScreenplay'; document: ScreenplayDocument; format: ExportFormat; pdf: PdfOptions };

/** The formats a script is exported in. */
export type ExportFormat = InterchangeFormat | 'pdf';

export interface YjsTaskResults {
  replay: ListReplay;
  derive: DerivedBlocks;
  blocks: CanonicalRestBlock[];
  advance: AdvancedState;
  contentUpdate: Uint8Array | null;
  blamePage: BlamePage;
  restCopy: RestCopyOfState;
  parseScreenplay: ScreenplayDocument;
  writeScreenplay: string | Uint8Array;
}

/** What `SnapshotService.writeSnapshot` stores for a state, computed where the conversion runs. */
export interface RestCopyOfState {
  blocks: CanonicalRestBlock[];
  /** `JSON.stringify(blocks)`, the `content_blocks` written. */
  json: string;
  /** `checksumBlocks(blocks)`, the `yjs_checksum` written. */
  checksum: string;
}

/** Turns a replayed Yjs state into REST blocks; throws `ScreenplayConversionError` when it cannot do so losslessly. */
export function blocksFromState(state: Uint8Array): CanonicalRestBlock[] {
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, state);
    return yDocToRestBlocks(doc);
  } finally {
    doc.destroy();
  }
}

/** The REST copy of a state: the conversion, the serialisation and the hash, all off the serving thread. */
export function restCopyFromState(state: Uint8Array): RestCopyOfState {
  const blocks = blocksFromState(state);
  return { blocks, json: JSON.stringify(blocks), checksum: checksumBlocks(blocks) };
}

/** A state moved on by some rows, with its blocks (the `advance` task). */
export interface AdvancedState {
  state: Uint8Array;
  blocks: CanonicalRestBlock[];
}

export function advanceState(state: Uint8Array | null, updates: readonly Uint8Array[]): AdvancedState {
  const replay = replayUpdateList(state === null ? updates : [state, ...updates]);
  return { state: replay.state, blocks: blocksFromState(replay.state) };
}

export function deriveBlocks(updates: readonly Uint8Array[]): DerivedBlocks {
  const replay = replayUpdateList(updates);
  return { blocks: blocksFromState(replay.state), applied: replay.applied, undecodable: replay.undecodable, hasGap: replay.hasGap };
}

/**
 * The change from `base` to `input`, computed on a scratch document (y-prosemirror's
 * `updateYFragment` touches only what differs); null when there is nothing to change. The scratch
 * document gets a fresh client id, so its new items never collide with anyone's.
 */
export function contentUpdate(base: Uint8Array, input: SceneContentInput): Uint8Array | null {
  const scratch = new Y.Doc();
  try {
    Y.applyUpdate(scratch, base);
    const result = 'blocks' in input ? applyRestBlocksToYDoc(scratch, input.blocks) : applyTiptapJSONToYDoc(scratch, input.doc);
    return result.update;
  } finally {
    scratch.destroy();
  }
}

/**
 * An export file of a document, in `format`. The PDF writer (PDFKit, its fonts and their
 * decoders) is loaded on the first PDF, not at start: it was about a tenth of the server's start,
 * which every restart (a deploy, a crash) makes each reconnecting editor wait for. It throws
 * nothing that is told apart by class (a parser's `InterchangeParseError` is: the parsers stay
 * loaded with this module, since a module imported later into a worker thread can come with its
 * own copy of the error classes).
 */
export async function writeScreenplay(document: ScreenplayDocument, format: ExportFormat, pdf: PdfOptions): Promise<string | Uint8Array> {
  if (format === 'fountain') return serializeFountain(document);
  if (format === 'fdx') return serializeFdx(document);
  const { renderScreenplayPdf } = await import('../interchange/pdf.ts');
  return new Uint8Array(await renderScreenplayPdf(document, pdf));
}

export function runTask<K extends YjsTask['kind']>(task: Extract<YjsTask, { kind: K }>): YjsTaskResults[K] | Promise<YjsTaskResults[K]>;
export function runTask(task: YjsTask): YjsTaskResults[YjsTask['kind']] | Promise<YjsTaskResults[YjsTask['kind']]> {
  switch (task.kind) {
    case 'replay':
      return replayUpdateList(unpackUpdates(task.packed));
    case 'derive':
      return deriveBlocks(unpackUpdates(task.packed));
    case 'blocks':
      return blocksFromState(task.state);
    case 'advance':
      return advanceState(task.state, unpackUpdates(task.packed));
    case 'contentUpdate':
      return contentUpdate(task.base, task.input);
    case 'blamePage':
      return blamePage(task.state, task.packed);
    case 'restCopy':
      return restCopyFromState(task.state);
    case 'parseScreenplay':
      return parseScreenplayFile(task.bytes, task.format);
    case 'writeScreenplay':
      return writeScreenplay(task.document, task.format, task.pdf);
  }
}

/**
 * An error thrown by a task, as data: structured cloning keeps an error's message but not its
 * class or fields, and callers tell a conversion error (serve the REST copy, answer 422) from a
 * failure by class and `code`.
 */
export type TaskError =
  | { kind: 'conversion'; code: ScreenplayConversionErrorCode; message: string; location: string | undefined }
  | { kind: 'invalidBlocks'; issues: RestBlockIssue[] }
  | { kind: 'interchangeParse'; code: InterchangeErrorCode; format: InterchangeFormat; detail: string; location: InterchangeErrorLocation }
  | { kind: 'other'; name: string; message: string; stack: string | undefined };

export type TaskOutcome<R> = { ok: true; value: R } | { ok: false; error: TaskError };

export function describeTaskError(error: unknown): TaskError {
  if (error instanceof ScreenplayConversionError) return { kind: 'conversion', code: error.code, message: error.message, location: error.location };
  if (error instanceof InvalidRestBlocksError) return { kind: 'invalidBlocks', issues: error.issues };
  if (error instanceof InterchangeParseError) return { kind: 'interchangeParse', code: error.code, format: error.format, detail: error.detail, location: error.location };
  if (error instanceof Error) return { kind: 'other', name: error.name, message: error.message, stack: error.stack };
  return { kind: 'other', name: 'Error', message: String(error), stack: undefined };
}

/** The error a task threw, rebuilt on the calling thread with its class, code and message. */
export function rebuildTaskError(error: TaskError): Error {
  switch (error.kind) {
    case 'conversion': {
      // The constructor appends the location to the message; give it the message without it.
      const suffix = error.location === undefined ? '' : ` (at ${error.location})`;
      const message = suffix !== '' && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
      return new ScreenplayConversionError(error.code, message, { location: error.location });
    }
    case 'invalidBlocks':
      return new InvalidRestBlocksError(error.issues);
    case 'interchangeParse':
      return new InterchangeParseError(error.code, error.format, error.detail, error.location);
    case 'other': {
      const rebuilt = new Error(error.message);
      rebuilt.name = error.name;
      if (error.stack) rebuilt.stack = `${error.name}: ${error.message}\n    (in a worker thread)\n${error.stack.split('\n').slice(1).join('\n')}`;
      return rebuilt;
    }
  }
}
