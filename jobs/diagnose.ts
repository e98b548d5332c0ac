// diagnose (reliability plan 1.1): what the Yjs logs look like next to the REST copies.
import { diagnoseScenes, type Diagnosis } from '../src/restCopy/diagnostics.ts';
import { UnknownTargetError } from '../src/restCopy/errors.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand } from './command.ts';
import { formatTable, isoTime, toJson } from './format.ts';

export interface DiagnoseOptions {
  scriptId?: string;
}

/** One read-only pass; `UnknownTargetError` for a script id that does not exist. */
export async function diagnoseYjsState(deps: { prisma: PrismaClient; sceneLog: SceneLog }, options: DiagnoseOptions = {}): Promise<Diagnosis> {
  if (options.scriptId !== undefined) {
    const script = await deps.prisma.script.findUnique({ where: { scriptId: options.scriptId }, select: { scriptId: true } });
    if (!script) throw new UnknownTargetError('script', options.scriptId);
  }
  return diagnoseScenes(deps.prisma, deps.sceneLog, options);
}

/** The report as the table the command prints. */
export function formatDiagnosis(diagnosis: Diagnosis): string[] {
  const title = (text: string) => (text.length > 30 ? `${text.slice(0, 29)}…` : text);
  const lines: string[] = [];
  lines.push(`Scenes with Yjs updates: ${diagnosis.scenesWithUpdates.length}`);
  if (diagnosis.scenesWithUpdates.length > 0) {
    lines.push(
      ...formatTable(
        ['state', 'script', 'pos', 'scene', 'updates', 'live', 'first update', 'last update', 'REST updated', 'source'],
        diagnosis.scenesWithUpdates.map((s) => [
          s.state,
          title(s.scriptTitle),
          s.position,
          s.sceneId,
          s.storedRows,
          s.liveRows,
          isoTime(s.firstUpdateAt),
          isoTime(s.lastUpdateAt),
          isoTime(s.restUpdatedAt),
          s.snapshotSource,
        ]),
      ),
    );
  }
  lines.push('', `Scenes whose REST copy is newer than their newest update (REST_NEWER): ${diagnosis.restNewer.length}`);
  if (diagnosis.restNewer.length > 0) {
    lines.push(
      ...formatTable(
        ['script', 'pos', 'scene', 'last update', 'REST updated'],
        diagnosis.restNewer.map((s) => [title(s.scriptTitle), s.position, s.sceneId, isoTime(s.lastUpdateAt), isoTime(s.restUpdatedAt)]),
      ),
    );
  }
  lines.push('', `Scenes with REST content and no Yjs updates: ${diagnosis.restWithoutUpdates.length}`);
  if (diagnosis.restWithoutUpdates.length > 0) {
    lines.push(
      ...formatTable(
        ['script', 'pos', 'scene', 'REST blocks', 'seeded at'],
        diagnosis.restWithoutUpdates.map((s) => [title(s.scriptTitle), s.position, s.sceneId, s.restBlocks ?? 'invalid', isoTime(s.seededAt)]),
      ),
    );
  }
  const seededWithoutLog = diagnosis.restWithoutUpdates.filter((s) => s.seededAt !== null).length;
  lines.push('', 'Notes:');
  lines.push('  REST_NEWER: the REST copy changed after the newest update and was not derived from it; the Yjs state may be stale.');
  lines.push('  Scenes with REST content and no updates are seeded when first opened, or by `migrate-rest-to-yjs`.');
  if (seededWithoutLog > 0) {
    lines.push(`  ${seededWithoutLog} scene(s) were seeded but have no updates left: their log was lost; they load as corrupt.`);
  }
  return lines;
}

interface DiagnoseArgs extends DiagnoseOptions {
  json: boolean;
}

export const diagnoseCommand: JobCommand<DiagnoseArgs> = {
  name: 'diagnose',
  summary: 'report Yjs log counts, scenes whose REST copy is newer, and scenes with REST content but no updates',
  usage: [
    'usage: npm run job -- diagnose [--script-id <uuid>] [--json]',
    '',
    '  --script-id <uuid>  only the scenes of one script',
    '  --json              print the report as JSON on stdout',
    '',
    'Read-only.',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(argv, { 'script-id': { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const scriptId = values['script-id'] === undefined ? undefined : parseUuid(values['script-id'] as string, '--script-id');
    return { ...(scriptId ? { scriptId } : {}), json: Boolean(values.json) };
  },
  async run(args, { database, output }) {
    const diagnosis = await diagnoseYjsState({ prisma: database.prisma, sceneLog: new SceneLog(database.sql) }, args);
    if (args.json) output.result(toJson(diagnosis));
    else for (const line of formatDiagnosis(diagnosis)) output.result(line);
    return EXIT.OK;
  },
};
