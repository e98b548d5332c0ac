// export-scene (architecture document 12.2): one scene's whole log, its labels and its row's facts
// in a versioned JSON file that import-scene writes into another database (PGlite to PostgreSQL,
// or a backup of one scene). The file format is defined here; jobs/importScene.ts validates it.
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UserDirectory } from '../src/auth/users.ts';
import type { Database } from '../src/db/client.ts';
import { prismaExecutor } from '../src/db/sql.ts';
import { labelNameSchema } from '../src/history/labels.ts';
import { LabelStore } from '../src/history/labelStore.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import { UnknownTargetError } from '../src/restCopy/errors.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand } from './command.ts';
import { logRowJson } from './logRowJson.ts';

export const SCENE_EXPORT_FORMAT = 'writersroom/scene-export';
export const SCENE_EXPORT_VERSION = 1;

/** Strict base64 (what `Buffer.toString('base64')` writes): anything else is a damaged file, not bytes to guess at. */
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64');
const uuid = z.uuid();
const seqText = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a positive integer as a string');
const instant = z.iso.datetime({ offset: true });

/**
 * Version 1 of the file. Seqs are decimal strings (int8 does not fit a JSON number); updates and
 * label states are base64. Every field import-scene needs is required, so a truncated or
 * hand-edited file fails validation instead of importing part of a scene.
 */
export const sceneExportSchema = z.strictObject({
  format: z.literal(SCENE_EXPORT_FORMAT),
  version: z.literal(SCENE_EXPORT_VERSION),
  exportedAt: instant,
  /** Where it came from, for the person reading the file: `PostgreSQL host:port/db` or `PGlite <dir>`. */
  source: z.string(),
  scene: z.strictObject({
    sceneId: uuid,
    scriptId: uuid,
    scriptTitle: z.string(),
    position: z.int().min(0),
    sceneHeading: z.string().nullable(),
    /** The REST copy as stored (it is derived again from the log after an import). */
    contentBlocks: z.unknown(),
    snapshotSource: z.string(),
    snapshotSeq: seqText.nullable(),
    snapshotAt: instant.nullable(),
    yjsDerived: z.boolean(),
    yjsSeededAt: instant.nullable(),
    deletedAt: instant.nullable(),
    createdAt: instant,
  }),
  /** The scene's log head (`scene_log_heads.last_seq`): at least the highest row seq. */
  headSeq: seqText.nullable(),
  /** The users the rows and labels name, so an import can match them by email in another database. */
  writers: z.array(z.strictObject({ userId: uuid, email: z.string() })),
  rows: z.array(
    z.strictObject({
      versionId: uuid,
      seq: seqText,
      isCompacted: z.boolean(),
      compactedCount: z.int().min(1),
      compactedBy: uuid.nullable(),
      createdAt: instant,
      createdBy: uuid.nullable(),
      yjsUpdate: base64,
    }),
  ),
  labels: z.array(
    z.strictObject({
      labelId: uuid,
      name: labelNameSchema,
      seq: z.string().regex(/^\d{1,19}$/).nullable(),
      labelledAt: instant,
      createdAt: instant,
      createdBy: uuid.nullable(),
      /** Set when the label was part of a script label (the import keeps it as a label of the scene alone). */
      fromScriptLabel: z.boolean(),
      yjsState: base64.nullable(),
    }),
  ),
});

export type SceneExport = z.infer<typeof sceneExportSchema>;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/**
 * The scene's export, read in one REPEATABLE READ transaction so the rows, the head and the labels
 * are one moment of the scene even while editors append. `UnknownTargetError` for an unknown scene;
 * a deleted scene is exported too (before its purge is when one wants a copy).
 */
export async function exportScene(deps: { database: Database; now?: () => Date }, sceneId: string): Promise<SceneExport> {
  const { database } = deps;
  const sceneLog = new SceneLog(database.sql);
  const exported = await database.prisma.$transaction(
    async (tx) => {
      const scene = await tx.scene.findUnique({
        where: { sceneId },
        select: {
          sceneId: true,
          scriptId: true,
          position: true,
          sceneHeading: true,
          contentBlocks: true,
          snapshotSource: true,
          snapshotSeq: true,
          snapshotAt: true,
          yjsDerived: true,
          yjsSeededAt: true,
          deletedAt: true,
          createdAt: true,
          script: { select: { title: true } },
        },
      });
      if (!scene) throw new UnknownTargetError('scene', sceneId);
      const log = sceneLog.withTransaction(tx);
      const head = await log.head(sceneId);
      const rows = await log.clear.exportRows([sceneId]);
      const labelStore = new LabelStore(prismaExecutor(tx));
      const labelRows = await labelStore.sceneLabels(sceneId);
      // Labels are few; each carries its state, which the listing leaves out.
      const labels = [];
      for (const label of labelRows) {
        const stored = await labelStore.findSceneLabel(sceneId, { labelId: label.labelId });
        if (stored) labels.push(stored);
      }
      return {
        format: SCENE_EXPORT_FORMAT,
        version: SCENE_EXPORT_VERSION,
        exportedAt: (deps.now?.() ?? new Date()).toISOString(),
        source: `${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} ${database.description}`,
        scene: {
          sceneId: scene.sceneId,
          scriptId: scene.scriptId,
          scriptTitle: scene.script.title,
          position: scene.position,
          sceneHeading: scene.sceneHeading,
          contentBlocks: scene.contentBlocks,
          snapshotSource: scene.snapshotSource,
          snapshotSeq: scene.snapshotSeq === null ? null : scene.snapshotSeq.toString(),
          snapshotAt: iso(scene.snapshotAt),
          yjsDerived: scene.yjsDerived,
          yjsSeededAt: iso(scene.yjsSeededAt),
          deletedAt: iso(scene.deletedAt),
          createdAt: scene.createdAt.toISOString(),
        },
        headSeq: head === null || head === 0n ? null : head.toString(),
        writers: [] as SceneExport['writers'],
        rows: rows.map(logRowJson),
        labels: labels.map((label) => ({
          labelId: label.labelId,
          name: label.name,
          seq: label.seq === null ? null : label.seq.toString(),
          labelledAt: label.labelledAt.toISOString(),
          createdAt: label.createdAt.toISOString(),
          createdBy: label.createdBy,
          fromScriptLabel: label.scriptLabelId !== null,
          yjsState: label.state === null ? null : b64(label.state),
        })),
      } satisfies SceneExport as SceneExport;
    },
    { isolationLevel: 'RepeatableRead', timeout: 10 * 60_000 },
  );
  // After the transaction: on PGlite its one connection is the transaction's until it ends. A
  // writer's email does not belong to the scene's moment, only helps an import find them again.
  const emails = await new UserDirectory(database.prisma).emailsOf([...exported.rows.map((row) => row.createdBy), ...exported.labels.map((label) => label.createdBy)]);
  return { ...exported, writers: [...emails].map(([userId, email]) => ({ userId, email })) };
}

/** Writes the export with `wx` (an existing file is never overwritten), readable by the operator only, fsynced. */
export async function writeSceneExport(file: string, exported: SceneExport): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(exported, null, 1)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `./exports/scene-<id>-<time>-<random>.json`: never the name of an earlier export. */
export function defaultExportPath(sceneId: string, at: Date): string {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  return path.resolve('exports', `scene-${sceneId}-${stamp}-${randomBytes(3).toString('hex')}.json`);
}

interface ExportSceneArgs {
  sceneId: string;
  out: string | null;
}

export const exportSceneCommand: JobCommand<ExportSceneArgs> = {
  name: 'export-scene',
  summary: "write a scene's whole log, labels and row facts to a versioned JSON file (for import-scene)",
  usage: [
    'usage: npm run job -- export-scene <scene-id> [--out <file>]',
    '',
    '  --out <file>  where to write (default ./exports/scene-<id>-<time>.json); an existing file is never overwritten',
    '',
    'Read-only. Every row of the log (merged rows awaiting retention included), with its seq, compaction',
    'facts, writer and time; the labels with their states; the scene row. The file holds the scene\'s',
    'content: it is written readable by its owner only.',
  ].join('\n'),
  parse(argv) {
    const { values, positionals } = parseJobArgs(argv, { out: { type: 'string' } }, { min: 1, max: 1, names: '<scene-id>' });
    return { sceneId: parseUuid(positionals[0]!, 'scene id'), out: (values.out as string | undefined) ?? null };
  },
  async run(args, { database, output, now }) {
    const exported = await exportScene({ database, now }, args.sceneId);
    const file = path.resolve(args.out ?? defaultExportPath(args.sceneId, now()));
    await writeSceneExport(file, exported);
    output.progress(`export-scene: ${exported.rows.length} rows (head seq ${exported.headSeq ?? 'none'}), ${exported.labels.length} labels`);
    output.result(file);
    return EXIT.OK;
  },
};
