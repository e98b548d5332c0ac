import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { packUpdates, unpackUpdates } from '../log/packed.ts';
import type { ListReplay, Replayer, ReplayResult } from '../log/replay.ts';
import { replayUpdateList, replayUpdates, withRowsNamed } from '../log/replay.ts';
import type { StoredUpdate } from '../log/rows.ts';
import type { Logger } from '../logger.ts';
import type { BlamePage } from '../history/blameReplay.ts';
import { blamePage } from '../history/blameReplay.ts';
import type { CanonicalRestBlock } from '../screenplay/index.ts';
import { YjsWorkClosedError, YjsWorkerError } from './errors.ts';
import type { ScreenplayDocument } from '../interchange/document.ts';
import type { InterchangeFormat } from '../interchange/errors.ts';
import { parseScreenplayFile } from '../interchange/parse.ts';
import type { PdfOptions } from '../interchange/pdf.ts';
import {
  advanceState,
  blocksFromState,
  contentUpdate,
  deriveBlocks,
  rebuildTaskError,
  restCopyFromState,
  writeScreenplay,
  type AdvancedState,
  type DerivedBlocks,
  type ExportFormat,
  type RestCopyOfState,
  type SceneContentInput,
  type TaskOutcome,
  type YjsTask,
  type YjsTaskResults,
} from './tasks.ts';

/**
 * The CPU-heavy Yjs work of the background jobs and the HTTP routes that replay a log: replaying
 * rows into a state, a scene's blocks from its rows or from a state, and the update a PATCH makes;
 * and the screenplay files the import and export routes read and write.
 * The database I/O and the locks around it stay with the caller; only this pure work moves. One
 * implementation runs it in a pool of worker threads, where it cannot stall the event loop that
 * serves WebSocket traffic; the other on the calling thread (`WORKER_THREADS=0`, the command-line
 * tools, most tests). Both run the same functions (tasks.ts), so they give the same results.
 */
export interface YjsWork extends Replayer {
  /** Worker threads at most; 0 when the work runs on the calling thread. */
  readonly threads: number;
  replay(rows: readonly StoredUpdate[]): Promise<ReplayResult>;
  replayPacked(packed: Uint8Array): Promise<ListReplay>;
  /**
   * Replays packed updates (`SceneLog.loadPacked`) and converts the state to REST blocks; throws
   * `ScreenplayConversionError` when that is not lossless.
   */
  derive(packed: Uint8Array): Promise<DerivedBlocks>;
  blocksFromState(state: Uint8Array): Promise<CanonicalRestBlock[]>;
  /** `state` (null: empty) with packed rows (`SceneLog.loadPacked`) applied, and its blocks. */
  advance(state: Uint8Array | null, packed: Uint8Array): Promise<AdvancedState>;
  /** The update that turns the state `base` into `input` (a PATCH); null when nothing changes. */
  contentUpdate(base: Uint8Array, input: SceneContentInput): Promise<Uint8Array | null>;
  /** One page of blame: packed rows replayed on `state`, with the blocks each row touched (src/history/blameReplay.ts). */
  blamePage(state: Uint8Array | null, packed: Uint8Array): Promise<BlamePage>;
  /** A state's REST copy (blocks, JSON, checksum) for the snapshot write; throws `ScreenplayConversionError` when not lossless. */
  restCopyFromState(state: Uint8Array): Promise<RestCopyOfState>;
  /** An imported file as a document (src/interchange/parse.ts); throws `InterchangeParseError` saying where it broke. */
  parseScreenplay(bytes: Uint8Array, format: InterchangeFormat): Promise<ScreenplayDocument>;
  /** A document as an export file: Fountain or FDX text, or a PDF. */
  writeScreenplay(document: ScreenplayDocument, format: ExportFormat, pdf: PdfOptions): Promise<string | Uint8Array>;
  /** Waits for the tasks already handed in, then stops the threads; later tasks are refused. */
  close(): Promise<void>;
}

/** The work on the calling thread. */
export const inlineYjsWork: YjsWork = {
  threads: 0,
  replay: async (rows) => replayUpdates(rows),
  replayPacked: async (packed) => replayUpdateList(unpackUpdates(packed)),
  derive: async (packed) => deriveBlocks(unpackUpdates(packed)),
  blocksFromState: async (state) => blocksFromState(state),
  advance: async (state, packed) => advanceState(state, unpackUpdates(packed)),
  contentUpdate: async (base, input) => contentUpdate(base, input),
  blamePage: async (state, packed) => blamePage(state, packed),
  restCopyFromState: async (state) => restCopyFromState(state),
  parseScreenplay: async (bytes, format) => parseScreenplayFile(bytes, format),
  writeScreenplay: (document, format, pdf) => writeScreenplay(document, format, pdf),
  close: async () => {},
};

/**
 * Threads run TypeScript through tsx's loader. Under `npm start` (the tsx command) and the image
 * (`node --import tsx`) a thread inherits it with the parent's options; a parent that runs
 * TypeScript another way (vitest transforms in-process) has no loader a thread could inherit, so
 * the thread is given tsx's.
 */
function threadExecArgv(): string[] {
  if (COMPILED) return process.execArgv;
  const hasTsx = process.execArgv.some((arg) => /(^|[\\/])tsx([\\/]|$)/.test(arg));
  return hasTsx ? process.execArgv : [...process.execArgv, '--import', 'tsx'];
}

/** Running the production build (dist/, `npm run build`): plain JavaScript, no loader needed. */
const COMPILED = import.meta.url.endsWith('.js');
const WORKER_ENTRY = new URL(COMPILED ? './worker.js' : './worker.ts', import.meta.url).href;

/**
 * `YjsWork` in a pool of worker threads (piscina). Threads start on first use and then stay, so a
 * server that never replays starts none, and a busy one never pays a thread's start-up twice.
 * Many small updates go to a thread packed in one buffer (src/log/packed.ts): rows are packed here
 * into a buffer that is moved, not copied; a packed read from the database is copied (one memcpy),
 * since the caller owns it. States and updates a thread makes come back moved.
 *
 * A task's own error (a conversion that would lose content) comes back with its class and code. A
 * thread that dies mid-task (out of memory, killed) fails that task with `YjsWorkerError`; the
 * pool starts a new thread for the next one.
 */
export class YjsWorkerPool implements YjsWork {
  readonly threads: number;
  private readonly pool: Piscina;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(options: { threads: number; logger: Logger; nice?: number }) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError(`a worker pool needs at least one thread, not ${options.threads}`);
    this.threads = options.threads;
    this.pool = new Piscina({
      filename: WORKER_ENTRY,
      name: 'default',
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      execArgv: threadExecArgv(),
      // piscina's own nice (through its optional @napi-rs/nice): on Linux each thread has its own nice
      // value, so the threads give way to the serving event loop when both want a core.
      niceIncrement: options.nice ?? 0,
    });
    // Without a listener an 'error' event (a thread that failed to start) would throw in the
    // process; the task it took is rejected and handled by its caller.
    this.pool.on('error', (error: unknown) => options.logger.error({ err: error }, 'a worker thread of the Yjs pool failed'));
  }

  async replay(rows: readonly StoredUpdate[]): Promise<ReplayResult> {
    const packed = packUpdates(rows.map((row) => row.update));
    // The packed buffer is this call's own: moving it leaves nobody with a detached view.
    return withRowsNamed(rows, await this.run({ kind: 'replay', packed }, [packed.buffer as ArrayBuffer]));
  }

  replayPacked(packed: Uint8Array): Promise<ListReplay> {
    return this.run({ kind: 'replay', packed }, []);
  }

  derive(packed: Uint8Array): Promise<DerivedBlocks> {
    return this.run({ kind: 'derive', packed }, []);
  }

  blocksFromState(state: Uint8Array): Promise<CanonicalRestBlock[]> {
    // Copied, not moved: the caller may still hold the state.
    return this.run({ kind: 'blocks', state }, []);
  }

  advance(state: Uint8Array | null, packed: Uint8Array): Promise<AdvancedState> {
    // Both copied: the caller keeps the state it had, and a packed read from the database is its own.
    return this.run({ kind: 'advance', state, packed }, []);
  }

  contentUpdate(base: Uint8Array, input: SceneContentInput): Promise<Uint8Array | null> {
    return this.run({ kind: 'contentUpdate', base, input }, []);
  }

  blamePage(state: Uint8Array | null, packed: Uint8Array): Promise<BlamePage> {
    // The page is packed by the caller for this call alone (moved); the state is copied.
    return this.run({ kind: 'blamePage', state, packed }, [packed.buffer as ArrayBuffer]);
  }

  restCopyFromState(state: Uint8Array): Promise<RestCopyOfState> {
    // Copied, not moved: the caller may still hold the state.
    return this.run({ kind: 'restCopy', state }, []);
  }

  parseScreenplay(bytes: Uint8Array, format: InterchangeFormat): Promise<ScreenplayDocument> {
    // Copied: the request still holds the body.
    return this.run({ kind: 'parseScreenplay', bytes, format }, []);
  }

  writeScreenplay(document: ScreenplayDocument, format: ExportFormat, pdf: PdfOptions): Promise<string | Uint8Array> {
    return this.run({ kind: 'writeScreenplay', document, format, pdf }, []);
  }

  /** Live worker threads, for diagnostics and for tests that stop one mid-task. */
  workerThreads(): Worker[] {
    return this.pool.threads.slice();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.pool.destroy();
    })();
    return this.closing;
  }

  private run<K extends YjsTask['kind']>(task: Extract<YjsTask, { kind: K }>, transferList: ArrayBuffer[]): Promise<YjsTaskResults[K]> {
    if (this.closing) return Promise.reject(new YjsWorkClosedError(task.kind));
    const running = (async () => {
      let outcome: TaskOutcome<YjsTaskResults[K]>;
      try {
        outcome = await this.pool.run(task, { transferList });
      } catch (error) {
        throw new YjsWorkerError(task.kind, error);
      }
      if (!outcome.ok) throw rebuildTaskError(outcome.error);
      return outcome.value;
    })();
    this.inFlight.add(running);
    void running.then(
      () => this.inFlight.delete(running),
      () => this.inFlight.delete(running),
    );
    return running;
  }
}

/** The pool for `threads` > 0, else the work on the calling thread (`config.workers.threads`). */
export function createYjsWork(options: { threads: number; logger: Logger; nice?: number }): YjsWork {
  return options.threads === 0 ? inlineYjsWork : new YjsWorkerPool(options);
}
