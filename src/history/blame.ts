import type { UserDirectory } from '../auth/users.ts';
import type { AuthoredRow, LogAuthorship } from '../log/authorship.ts';
import { packUpdates } from '../log/packed.ts';
import type { CanonicalRestBlock } from '../screenplay/index.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';

/** Who last changed a block and when: one log row. */
export interface BlockChange {
  seq: bigint;
  createdAt: Date;
  /**
   * `user`: an original row a user wrote; `server`: one the server wrote itself (seeding, a repair);
   * `compacted`: the compacted row the replay started from, which stands for many writers' updates.
   */
  by: 'user' | 'server' | 'compacted';
  userId: string | null;
  email: string | null;
}

export interface BlamedBlock {
  block: CanonicalRestBlock;
  /** Null only when no replayed row touched it (it cannot be told apart from the start). */
  lastChange: BlockChange | null;
}

export interface SceneBlame {
  /** The newest seq the replay included: the blocks are the scene after every update up to it. Null for a scene with no update. */
  seq: bigint | null;
  blocks: BlamedBlock[];
  /**
   * `complete`: every block's last change is a single row. Otherwise retention deleted the
   * originals up to `beforeSeq` and a compacted row stands for them: a block last changed there is
   * attributed to it (`by: "compacted"`).
   */
  resolution: { complete: boolean; beforeSeq: bigint | null };
  /** What the replay cost: rows read and replayed, and pages (database reads and worker tasks). */
  cost: { rows: number; pages: number };
}

export interface BlameConfiguration {
  authorship: LogAuthorship;
  /** The writers' emails (`users` is read there, not by the log). */
  users: Pick<UserDirectory, 'emailsOf'>;
  /** Where the replay runs (the worker pool); default: this thread. */
  work?: Pick<YjsWork, 'blamePage' | 'blocksFromState'>;
  /** Rows per page (a database read and a worker task each). */
  pageRows?: number;
}

/** Retention deleted rows between two pages several times running: give up rather than answer from a log with holes. */
export class BlameUnstableError extends Error {
  readonly code = 'BLAME_LOG_CHANGED';
  constructor(readonly sceneId: string) {
    super(`The log of scene ${sceneId} kept changing under the replay (retention deleting rows); try again`);
    this.name = 'BlameUnstableError';
  }
}

const DEFAULT_PAGE_ROWS = 2000;
const ATTEMPTS = 3;

/**
 * Blame: for each block of a scene's current content, the log row that last changed it (writer,
 * time, seq). The log is replayed from the finest resolution it still holds (`LogAuthorship.base`):
 * from seq 1 while every original is retained, else from the compacted row that covers what
 * retention deleted. Rows come in pages (`pageRows`, keyset by seq) and each page is replayed in the
 * worker pool on top of the state the page before left (`blamePage`), so memory holds one page, one
 * document and one entry per block, never the whole log. The cost is one read of each row, one Yjs
 * transaction and one full decode check per row, and one state encode and decode per page: for a
 * 100,000-row scene, 50 pages of 2,000.
 */
export class SceneBlamer {
  private readonly work: Pick<YjsWork, 'blamePage' | 'blocksFromState'>;
  private readonly pageRows: number;

  constructor(private readonly configuration: BlameConfiguration) {
    this.work = configuration.work ?? inlineYjsWork;
    this.pageRows = configuration.pageRows ?? DEFAULT_PAGE_ROWS;
    if (!Number.isInteger(this.pageRows) || this.pageRows < 1) throw new RangeError(`pageRows must be a positive integer, not ${this.pageRows}`);
  }

  /** Null when the scene's log is empty (its content is the REST copy, written before any update). */
  async blame(sceneId: string): Promise<SceneBlame | null> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const result = await this.tryBlame(sceneId);
      if (result !== 'log-changed') return result;
    }
    throw new BlameUnstableError(sceneId);
  }

  private async tryBlame(sceneId: string): Promise<SceneBlame | null | 'log-changed'> {
    const { authorship } = this.configuration;
    const base = await authorship.base(sceneId);
    if (base.upTo === null) return null;
    const quarantined = new Set(base.quarantined);
    const skipQuarantined = (seq: bigint): bigint => {
      let next = seq;
      while (quarantined.has(next)) next += 1n;
      return next;
    };

    const lastChange = new Map<string, RowChange>();
    let state: Uint8Array | null = null;
    let blocks: string[] = [];
    let expected = base.compacted ? base.compacted.seq : skipQuarantined(1n);
    let cursor = base.compacted ? base.compacted.seq - 1n : 0n;
    let rowsRead = 0;
    let pages = 0;
    for (;;) {
      const rows = await authorship.page(sceneId, base, cursor, this.pageRows);
      if (rows.length === 0) break;
      // Seqs run on without a hole, or retention deleted originals since `base` was read.
      for (const row of rows) {
        if (row.seq !== expected) return 'log-changed';
        expected = skipQuarantined(row.seq + 1n);
      }
      const page = await this.work.blamePage(state, packUpdates(rows.map((row) => row.update)));
      pages += 1;
      rowsRead += rows.length;
      state = page.state;
      blocks = page.blocks;
      for (const [name, index] of page.touched) lastChange.set(name, rowChange(rows[index]!));
      // Blocks deleted since are forgotten: the map holds at most one entry per block there is.
      const present = new Set(blocks);
      for (const name of lastChange.keys()) if (!present.has(name)) lastChange.delete(name);
      cursor = rows[rows.length - 1]!.seq;
      if (rows.length < this.pageRows || cursor >= base.upTo) break;
    }
    if (state === null || expected <= base.upTo) return 'log-changed';

    const restBlocks = await this.work.blocksFromState(state);
    if (restBlocks.length !== blocks.length) throw new Error(`blame of scene ${sceneId}: ${blocks.length} blocks in the fragment but ${restBlocks.length} REST blocks`);
    const emails = await this.configuration.users.emailsOf([...lastChange.values()].map((change) => change.userId));
    return {
      seq: base.upTo,
      blocks: restBlocks.map((block, index) => {
        const change = lastChange.get(blocks[index]!);
        return { block, lastChange: change ? { ...change, email: change.userId === null ? null : (emails.get(change.userId) ?? null) } : null };
      }),
      resolution: { complete: base.compacted === null, beforeSeq: base.compacted?.seq ?? null },
      cost: { rows: rowsRead, pages },
    };
  }
}

type RowChange = Omit<BlockChange, 'email'>;

function rowChange(row: AuthoredRow): RowChange {
  if (row.isCompacted) return { seq: row.seq, createdAt: row.createdAt, by: 'compacted', userId: null };
  return { seq: row.seq, createdAt: row.createdAt, by: row.createdBy === null ? 'server' : 'user', userId: row.createdBy };
}
