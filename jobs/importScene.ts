// import-scene (architecture document 12.2): writes a scene exported by export-scene into this
// database, its log rows with their ids and seqs, its labels, and a REST copy derived from the
// imported log. Refuses to mix two logs: a scene that has one here is replaced only with --replace,
// which first clears it through clear-yjs (whose export keeps what was replaced).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as Y from 'yjs';
import { UserDirectory } from '../src/auth/users.ts';
import type { Database } from '../src/db/client.ts';
import { prismaExecutor } from '../src/db/sql.ts';
import { updateProblem } from '../src/guards/updateValidation.ts';
import { LabelStore } from '../src/history/labelStore.ts';
import { LogNotEmptyError, type ImportedRow } from '../src/log/import.ts';
import { replayUpdates } from '../src/log/replay.ts';
import type { StoredUpdate } from '../src/log/rows.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import type { Logger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { SnapshotService } from '../src/restCopy/snapshots.ts';
import { InvalidSceneContentError } from '../src/scripts/errors.ts';
import { ScriptStore } from '../src/scripts/scriptStore.ts';
import { clearYjs } from './clearYjs.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand } from './command.ts';
import { SCENE_EXPORT_FORMAT, SCENE_EXPORT_VERSION, sceneExportSchema, type SceneExport } from './exportScene.ts';
import { toJson } from './format.ts';

/** The file is not a scene export this version can import; nothing was written. */
export class SceneFileError extends Error {
  readonly code = 'SCENE_FILE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SceneFileError';
  }
}

/** The file is sound, but this database cannot take it as asked; nothing was written. */
export class SceneImportRefusedError extends Error {
  readonly code = 'SCENE_IMPORT_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'SceneImportRefusedError';
  }
}

/** A validated export, with its bytes decoded. */
export interface SceneFile {
  exported: SceneExport;
  rows: ImportedRow[];
  labels: Array<{ name: string; seq: bigint | null; state: Uint8Array | null; labelledAt: Date; createdBy: string | null }>;
}

function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * Parses and checks an export: JSON, format and version, every field (`sceneExportSchema`), then
 * what the schema cannot say: unique row ids and seqs, `compacted_by` naming a compacted row of the
 * file, every update passing the guards' check, the live rows replaying without a gap, labels
 * within the log. `SceneFileError` names the first problem.
 */
export function readSceneFile(text: string): SceneFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SceneFileError(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const head = json as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== SCENE_EXPORT_FORMAT) {
    throw new SceneFileError(`not a scene export: "format" must be "${SCENE_EXPORT_FORMAT}" (export-scene writes one)`);
  }
  if (head.version !== SCENE_EXPORT_VERSION) {
    throw new SceneFileError(`version ${JSON.stringify(head.version)} of the scene export is not supported (this code reads version ${SCENE_EXPORT_VERSION})`);
  }
  const parsed = sceneExportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SceneFileError(`${issue.path.length > 0 ? issue.path.join('.') : 'the file'}: ${issue.message}`);
  }
  const exported = parsed.data;

  const rows: ImportedRow[] = exported.rows.map((row) => ({
    versionId: row.versionId,
    seq: BigInt(row.seq),
    update: decodeBase64(row.yjsUpdate),
    isCompacted: row.isCompacted,
    compactedCount: row.compactedCount,
    compactedBy: row.compactedBy,
    createdAt: new Date(row.createdAt),
    createdBy: row.createdBy,
  }));
  const byId = new Map<string, ImportedRow>();
  const seqs = new Set<string>();
  for (const [index, row] of rows.entries()) {
    const where = `rows.${index} (seq ${row.seq})`;
    if (byId.has(row.versionId)) throw new SceneFileError(`${where}: versionId ${row.versionId} appears twice`);
    byId.set(row.versionId, row);
    const key = `${row.isCompacted}:${row.seq}`;
    if (seqs.has(key)) throw new SceneFileError(`${where}: two ${row.isCompacted ? 'compacted' : 'original'} rows with seq ${row.seq}`);
    seqs.add(key);
    const problem = updateProblem(row.update, Number.POSITIVE_INFINITY);
    if (problem) throw new SceneFileError(`${where}: the Yjs update does not decode (${problem.kind}: ${problem.detail})`);
  }
  for (const [index, row] of rows.entries()) {
    if (row.compactedBy === null) continue;
    const into = byId.get(row.compactedBy);
    if (!into?.isCompacted) throw new SceneFileError(`rows.${index} (seq ${row.seq}): compactedBy ${row.compactedBy} is not a compacted row of this file`);
  }
  const maxSeq = rows.reduce((max, row) => (row.seq > max ? row.seq : max), 0n);
  if (exported.headSeq === null ? rows.length > 0 : BigInt(exported.headSeq) < maxSeq) {
    throw new SceneFileError(`headSeq ${exported.headSeq} is below the highest row seq ${maxSeq}`);
  }

  // The rows a load would replay, in its order: they must make a whole document.
  const live: StoredUpdate[] = rows
    .filter((row) => row.compactedBy === null)
    .sort((a, b) => (a.seq === b.seq ? Number(b.isCompacted) - Number(a.isCompacted) : a.seq < b.seq ? -1 : 1))
    .map((row) => ({ versionId: row.versionId, seq: row.seq, update: row.update, isCompacted: row.isCompacted, compactedCount: row.compactedCount, createdAt: row.createdAt }));
  const replay = replayUpdates(live);
  if (replay.undecodable.length > 0) throw new SceneFileError(`the row of seq ${replay.undecodable[0]!.seq} does not apply: ${replay.undecodable[0]!.reason}`);
  if (replay.hasGap) throw new SceneFileError('the live rows do not replay to a whole document (updates are missing)');

  const names = new Set<string>();
  const labels = exported.labels.map((label, index) => {
    if (names.has(label.name)) throw new SceneFileError(`labels.${index}: the name ${JSON.stringify(label.name)} appears twice`);
    names.add(label.name);
    const seq = label.seq === null ? null : BigInt(label.seq);
    if (seq !== null && seq > maxSeq) throw new SceneFileError(`labels.${index}: seq ${seq} is beyond the log (highest ${maxSeq})`);
    const state = label.yjsState === null ? null : decodeBase64(label.yjsState);
    if (state !== null) {
      const problem = updateProblem(state, Number.POSITIVE_INFINITY);
      if (problem) throw new SceneFileError(`labels.${index}: the Yjs state does not decode (${problem.kind}: ${problem.detail})`);
    }
    return { name: label.name, seq, state, labelledAt: new Date(label.labelledAt), createdBy: label.createdBy };
  });
  return { exported, rows, labels };
}

export interface ImportSceneOptions {
  /** The script to add the scene to when it does not exist here (default: the exported script, if it exists here). */
  scriptId?: string;
  /** Clear the scene's log here first (clear-yjs, with its export) when it has one. */
  replace: boolean;
  /** Where --replace's clear-yjs export goes. */
  exportDir: string;
}

export interface SceneImportReport {
  sceneId: string;
  scriptId: string;
  /** The scene row was made here (false: it existed). */
  createdScene: boolean;
  /** --replace cleared this many rows first, exported to this file. */
  replaced: { rows: number; exportPath: string } | null;
  rows: number;
  head: string;
  labels: { imported: number; skipped: string[] };
  writers: { sameId: number; byEmail: number; unknown: number };
  /** What deriving the REST copy from the imported log did (`written`, `superseded`, ...), or why it failed. */
  restCopy: string;
}

/**
 * One import. Validation happens before any write (`readSceneFile`); the rows and labels go in
 * one transaction under the scene's head lock, so a concurrent first load either seeds the scene
 * before (and the import is refused: the log is not empty) or finds the imported log.
 */
export async function importScene(
  deps: { database: Database; logger: Logger; now?: () => Date; onProgress?: (line: string) => void },
  file: SceneFile,
  options: ImportSceneOptions,
): Promise<SceneImportReport> {
  const { database, logger } = deps;
  const { prisma } = database;
  const sceneLog = new SceneLog(database.sql);
  const { exported } = file;
  const sceneId = exported.scene.sceneId;

  const existing = await prisma.scene.findUnique({ where: { sceneId }, select: { scriptId: true, deletedAt: true } });
  let scriptId: string;
  let replaced: SceneImportReport['replaced'] = null;
  if (existing) {
    scriptId = existing.scriptId;
    if (options.scriptId !== undefined && options.scriptId !== existing.scriptId) {
      throw new SceneImportRefusedError(`scene ${sceneId} exists here in script ${existing.scriptId}, not in ${options.scriptId}; a scene id is unique across scripts`);
    }
    if (existing.deletedAt !== null) throw new SceneImportRefusedError(`scene ${sceneId} is deleted here; restore it first (POST /api/scripts/${scriptId}/scenes/${sceneId}/restore)`);
    if (await sceneLog.hasUpdates(sceneId)) {
      if (!options.replace) throw new SceneImportRefusedError(`scene ${sceneId} already has a Yjs log here; pass --replace to clear it (exported first) and import this one`);
      const cleared = await clearYjs(
        { prisma, sceneLog, now: deps.now ?? (() => new Date()) },
        { id: sceneId, execute: true, force: true, allowActive: false, exportDir: options.exportDir },
      );
      if (cleared.executed) replaced = { rows: cleared.result.deletedRows, exportPath: cleared.result.exportPath };
      deps.onProgress?.(`import-scene: cleared ${replaced?.rows ?? 0} rows of the scene here, exported to ${replaced?.exportPath}`);
    }
  } else {
    scriptId = options.scriptId ?? exported.scene.scriptId;
    const script = await prisma.script.findUnique({ where: { scriptId }, select: { scriptId: true } });
    if (!script) {
      throw new SceneImportRefusedError(
        options.scriptId === undefined
          ? `the exported script ${scriptId} ("${exported.scene.scriptTitle}") does not exist here; pass --script-id <uuid> of a script to add the scene to`
          : `script ${scriptId} does not exist here`,
      );
    }
  }

  const writers = await mapWriters(prisma, exported.writers);
  const writerOf = (id: string | null) => (id === null ? null : (writers.map.get(id) ?? null));

  // The scene row first, in its own transaction (the scripts' owner orders positions under the
  // script's lock). Its REST copy is the exported one until the log's snapshot replaces it below.
  let createdScene = false;
  if (!existing) {
    const store = new ScriptStore({ prisma, sceneLog });
    const add = (blocks: unknown) => store.addScene(scriptId, { sceneId, heading: exported.scene.sceneHeading, blocks }, 'import');
    // A REST copy the scripts' owner refuses (it was never valid in the source either) is not the
    // log's content: the scene starts empty, and the snapshot below writes the log's.
    await add(exported.scene.contentBlocks).catch((error: unknown) => {
      if (error instanceof InvalidSceneContentError) return add([]);
      throw error;
    });
    createdScene = true;
  }

  const written = await prisma.$transaction(
    async (tx) => {
      const log = sceneLog.withTransaction(tx);
      await log.lockHead(sceneId);
      let imported;
      try {
        imported = await log.imports.importRows(sceneId, file.rows.map((row) => ({ ...row, createdBy: writerOf(row.createdBy) })));
      } catch (error) {
        if (error instanceof LogNotEmptyError) throw new SceneImportRefusedError(`${error.message} (written while the import ran: an editor opened it?); nothing was imported`);
        throw error;
      }
      const labelStore = new LabelStore(prismaExecutor(tx));
      const skipped: string[] = [];
      for (const label of file.labels) {
        const row = await labelStore.insertSceneLabel({ sceneId, ...label, createdBy: writerOf(label.createdBy), scriptLabelId: null });
        if (row === null) skipped.push(label.name);
      }
      return { imported, labels: { imported: file.labels.length - skipped.length, skipped } };
    },
    { timeout: 10 * 60_000 },
  );

  // The REST copy from the imported log, through the snapshot's guarded write; `allowSameSeq`:
  // after --replace the head (kept by clear-yjs) may equal the copy's old `snapshot_seq`.
  let restCopy: string;
  try {
    const snapshots = new SnapshotService({ prisma, sceneLog, metrics: createMetrics({ defaultMetrics: false }), logger, intervalMs: 0 });
    restCopy = (await snapshots.snapshotScene(sceneId, { trigger: 'yjs', allowSameSeq: true })).status;
  } catch (error) {
    logger.warn({ err: error, sceneId }, 'imported scene: REST copy not derived');
    restCopy = `failed: ${error instanceof Error ? error.message : String(error)} (the snapshot job tries again)`;
  }

  return {
    sceneId,
    scriptId,
    createdScene,
    replaced,
    rows: written.imported.rows,
    head: written.imported.head.toString(),
    labels: written.labels,
    writers: writers.counts,
    restCopy,
  };
}

/**
 * The exported writers as users of this database: the same id when it exists here, else the user
 * with the same email (a fresh database's users sign up again), else none (stored as NULL, as for
 * a deleted user).
 */
async function mapWriters(prisma: Database['prisma'], writers: SceneExport['writers']) {
  const directory = new UserDirectory(prisma);
  const here = await directory.emailsOf(writers.map((writer) => writer.userId));
  const map = new Map<string, string>();
  const counts = { sameId: 0, byEmail: 0, unknown: 0 };
  for (const writer of writers) {
    if (here.has(writer.userId)) {
      map.set(writer.userId, writer.userId);
      counts.sameId += 1;
      continue;
    }
    const byEmail = await directory.find(writer.email);
    if (byEmail) {
      map.set(writer.userId, byEmail.userId);
      counts.byEmail += 1;
    } else counts.unknown += 1;
  }
  return { map, counts };
}

interface ImportSceneArgs extends ImportSceneOptions {
  file: string;
  json: boolean;
}

export const importSceneCommand: JobCommand<ImportSceneArgs> = {
  name: 'import-scene',
  summary: 'write a scene exported by export-scene into this database (log with its seqs, labels, REST copy)',
  usage: [
    'usage: npm run job -- import-scene <file> [--script-id <uuid>] [--replace] [--export-dir <dir>] [--json]',
    '',
    '  --script-id <uuid>  the script to add the scene to when it is not in this database (default: the exported script)',
    '  --replace           the scene has a log here: clear it first (clear-yjs, exported to --export-dir)',
    '  --export-dir <dir>  where --replace writes what it clears (default ./exports)',
    '  --json              print the report as JSON on stdout',
    '',
    'The scene keeps its id; a new scene goes at the end of the script. The rows keep their ids, seqs,',
    'compaction marks, times and writers (matched here by id, else by email, else none). Labels keep',
    'their names and states (a label of a script label becomes a label of the scene alone; a name the',
    'scene has here already is skipped). The REST copy is derived from the imported log. A broken file',
    'exits 2, a refused import 1; nothing is written in either case.',
  ].join('\n'),
  parse(argv) {
    const { values, positionals } = parseJobArgs(
      argv,
      { 'script-id': { type: 'string' }, replace: { type: 'boolean' }, 'export-dir': { type: 'string' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: '<file>' },
    );
    const scriptId = values['script-id'] === undefined ? undefined : parseUuid(values['script-id'] as string, '--script-id');
    return {
      file: positionals[0]!,
      ...(scriptId ? { scriptId } : {}),
      replace: Boolean(values.replace),
      exportDir: (values['export-dir'] as string | undefined) ?? 'exports',
      json: Boolean(values.json),
    };
  },
  async run(args, { database, logger, output, now }) {
    let file: SceneFile;
    try {
      file = readSceneFile(await readFile(path.resolve(args.file), 'utf8'));
    } catch (error) {
      if (!(error instanceof SceneFileError) && (error as { code?: string }).code !== 'ENOENT' && (error as { code?: string }).code !== 'EISDIR') throw error;
      output.progress(`import-scene: ${args.file}: ${error instanceof SceneFileError ? error.message : 'no such file'}`);
      return EXIT.USAGE;
    }
    let report: SceneImportReport;
    try {
      report = await importScene({ database, logger, now, onProgress: output.progress }, file, args);
    } catch (error) {
      if (!(error instanceof SceneImportRefusedError) && (error as { code?: string }).code !== 'CLEAR_REFUSED') throw error;
      output.progress(`import-scene: refused: ${(error as Error).message}`);
      return EXIT.FAILED;
    }
    if (args.json) {
      output.result(toJson(report));
    } else {
      output.result(`import-scene: scene ${report.sceneId} ${report.createdScene ? 'created in' : 'of'} script ${report.scriptId}`);
      output.result(`  rows:     ${report.rows} (head seq ${report.head})${report.replaced ? `; replaced ${report.replaced.rows} rows, exported to ${report.replaced.exportPath}` : ''}`);
      output.result(`  labels:   ${report.labels.imported}${report.labels.skipped.length > 0 ? ` (skipped, name taken here: ${report.labels.skipped.join(', ')})` : ''}`);
      output.result(`  writers:  ${report.writers.sameId} same id, ${report.writers.byEmail} by email, ${report.writers.unknown} unknown here (stored as none)`);
      output.result(`  REST copy: ${report.restCopy}`);
    }
    return report.restCopy.startsWith('failed') ? EXIT.FAILED : EXIT.OK;
  },
};
