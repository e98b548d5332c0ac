// diagnose (reliability plan 1.1): what the Yjs logs look like next to the REST copies.
import { diagnoseScenes, type Diagnosis } from '../src/restCopy/diagnostics.ts';
import { UnknownTargetError } from '../src/restCopy/errors.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import { LIFECYCLE_STATES, sceneLifecycle, type SceneLifecycleState } from '../src/scenes/lifecycle.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand } from './command.ts';
import { formatTable, isoTime, toJson } from './format.ts';

export interface DiagnoseOptions {
  scriptId?: string;
}

/** Section 8.1's states of the live scenes diagnosed: how many are in each, and each scene's. */
export interface LifecycleReport {
  byState: Record<SceneLifecycleState, number>;
  scenes: Record<string, SceneLifecycleState>;
}

export interface DiagnosisWithLifecycle extends Diagnosis {
  lifecycle: LifecycleReport;
}

/** One read-only pass; `UnknownTargetError` for a script id that does not exist. */
export async function diagnoseYjsState(deps: { prisma: PrismaClient; sceneLog: SceneLog }, options: DiagnoseOptions = {}): Promise<DiagnosisWithLifecycle> {
  if (options.scriptId !== undefined) {
    const script = await deps.prisma.script.findUnique({ where: { scriptId: options.scriptId }, select: { scriptId: true } });
    if (!script) throw new UnknownTargetError('script', options.scriptId);
  }
  const diagnosis = await diagnoseScenes(deps.prisma, deps.sceneLog, options);
  return { ...diagnosis, lifecycle: await lifecycleOf(deps, options) };
}

/** The live scenes of the scope, then all their lifecycle facts in one statement. */
async function lifecycleOf(deps: { prisma: PrismaClient; sceneLog: SceneLog }, options: DiagnoseOptions): Promise<LifecycleReport> {
  const scenes = await deps.prisma.scene.findMany({
    where: { deletedAt: null, ...(options.scriptId !== undefined ? { scriptId: options.scriptId } : {}) },
    select: { sceneId: true },
  });
  const facts = await deps.sceneLog.lifecycle.factsOf(scenes.map((scene) => scene.sceneId));
  const byState = Object.fromEntries(LIFECYCLE_STATES.map((state) => [state, 0])) as Record<SceneLifecycleState, number>;
  const states: Record<string, SceneLifecycleState> = {};
  for (const [sceneId, sceneFacts] of facts) {
    const state = sceneLifecycle(sceneFacts);
    states[sceneId] = state;
    byState[state] += 1;
  }
  return { byState, scenes: states };
}

/** The report as the table the command prints. */
export function formatDiagnosis(diagnosis: DiagnosisWithLifecycle): string[] {
  const title = (text: string) => (text.length > 30 ? `${text.slice(0, 29)}…` : text);
  const lines: string[] = [];
  const { byState } = diagnosis.lifecycle;
  lines.push(`Scenes by lifecycle state: ${LIFECYCLE_STATES.map((state) => `${state} ${byState[state]}`).join(', ')}`, '');
  lines.push(`Scenes with Yjs updates: ${diagnosis.scenesWithUpdates.length}`);
  if (diagnosis.scenesWithUpdates.length > 0) {
    lines.push(
      ...formatTable(
        ['state', 'script', 'pos', 'scene', 'updates', 'live', 'first update', 'last update', 'REST updated', 'source', 'lifecycle'],
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
          diagnosis.lifecycle.scenes[s.sceneId] ?? 'deleted',
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
  lines.push('  lifecycle: section 8.1 of the architecture document, as src/scenes/lifecycle.ts decides it; "deleted" for a deleted scene.');
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
  summary: 'report lifecycle states, Yjs log counts, scenes whose REST copy is newer, and scenes with REST content but no updates',
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
