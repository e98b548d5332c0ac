import { z } from 'zod';
import { isCanonicalUuid } from '../auth/ids.ts';
import type { SqlExecutor } from '../db/sql.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import { InvalidPointError, LabelNameTakenError, LabelOfScriptError, UnknownLabelError } from './errors.ts';
import { LabelStore, type NewSceneLabel, type SceneLabelRow, type ScriptLabelRow } from './labelStore.ts';
import { HistoryPoints, instantSchema, readsAsSeqOrInstant, type LabelLookup, type LabelledState, type PointState } from './points.ts';

/** Longest label name, in UTF-16 code units. */
export const LABEL_NAME_MAX = 100;

// Control characters (newlines, tabs, NUL) in a name would make lists and URLs unreadable.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A label name: 1-100 characters once leading and trailing spaces are removed, no control
 * characters, and never something a point written as one string reads otherwise (all digits, an
 * ISO instant) or a label id (a UUID), so `from=Draft 2` always means the label.
 */
export const labelNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(LABEL_NAME_MAX, `must be at most ${LABEL_NAME_MAX} characters`)
  .refine((name) => !CONTROL.test(name), 'must not contain control characters')
  .refine((name) => !isCanonicalUuid(name), 'must not be a UUID (label ids are)')
  .refine((name) => !readsAsSeqOrInstant(name), 'must not be all digits or an ISO 8601 instant (they name a seq or an instant)');

/** `POST …/labels`: a name, and optionally the instant to label (default: now). */
export const createLabelBodySchema = z.strictObject({ name: labelNameSchema, at: instantSchema.optional() });

export interface LabelRequest {
  name: string;
  /** The instant to label; absent: the scene as it is now. */
  at?: Date;
}

export interface LabelsConfiguration {
  sql: SqlExecutor;
  sceneLog: SceneLog;
  /** Lists a script's scenes for a script label. */
  prisma: PrismaClient;
  /**
   * Loads a scene the way an editor's connection does (Hocuspocus's direct connection), which
   * seeds its log from the REST copy when that is due: a scene with REST content and no log yet is
   * then labelled with that content, not as empty. Absent: such a scene is labelled empty.
   */
  loadScene?: (sceneId: string) => Promise<void>;
  now?: () => Date;
}

/**
 * Named versions of scenes and scripts. A label stores the scene's Yjs state at the point it names
 * (`Y.encodeStateAsUpdate` of the replay there) and that point's seq: restoring it later needs
 * nothing from the log, so compaction and retention (which delete merged originals) can never make
 * a labelled state unrestorable, and they need no knowledge of labels.
 */
export class Labels implements LabelLookup {
  readonly points: HistoryPoints;
  private readonly store: LabelStore;
  private readonly now: () => Date;

  constructor(private readonly configuration: LabelsConfiguration) {
    this.store = new LabelStore(configuration.sql);
    this.points = new HistoryPoints(configuration.sceneLog, this);
    this.now = configuration.now ?? (() => new Date());
  }

  /** Labels the scene now or at `request.at`; `LabelNameTakenError` when the name is in use on the scene. */
  async labelScene(sceneId: string, request: LabelRequest, createdBy: string | null): Promise<SceneLabelRow> {
    const labelledAt = this.instantOf(request);
    const point = await this.stateToLabel(sceneId, request.at);
    const row = await this.store.insertSceneLabel({ sceneId, name: request.name, seq: point.seq, state: point.state, labelledAt, createdBy });
    if (row === null) throw new LabelNameTakenError(request.name, `Scene ${sceneId}`);
    return row;
  }

  sceneLabels(sceneId: string): Promise<SceneLabelRow[]> {
    return this.store.sceneLabels(sceneId);
  }

  /** Deletes a label of the scene alone; one a script label made goes with that script label. */
  async deleteSceneLabel(sceneId: string, labelId: string): Promise<SceneLabelRow> {
    const found = await this.store.findSceneLabel(sceneId, { labelId });
    if (found === null) throw new UnknownLabelError(labelId, `scene ${sceneId}`);
    if (found.scriptLabelId !== null) throw new LabelOfScriptError(labelId, found.scriptLabelId);
    const deleted = await this.store.deleteSceneLabel(sceneId, labelId);
    if (deleted === null) throw new UnknownLabelError(labelId, `scene ${sceneId}`);
    return deleted;
  }

  /**
   * Labels every live scene of the script (a deleted one is left out) at one instant: a script label and one scene label of the
   * same name per scene, written in one transaction (all or none; a name taken on the script or
   * on any of its scenes is `LabelNameTakenError`). The states are replayed first, outside the
   * transaction, so it holds no connection (PGlite's only one) while the replays run.
   */
  async labelScript(scriptId: string, request: LabelRequest, createdBy: string | null): Promise<{ label: ScriptLabelRow; scenes: SceneLabelRow[] }> {
    const labelledAt = this.instantOf(request);
    const scenes = await this.configuration.prisma.scene.findMany({ where: { scriptId, deletedAt: null }, select: { sceneId: true }, orderBy: [{ position: 'asc' }, { sceneId: 'asc' }] });
    // Without `at`, each scene's current state: its log up to the head read now.
    const states = new Map<string, PointState>();
    for (const { sceneId } of scenes) states.set(sceneId, await this.stateToLabel(sceneId, request.at));
    return this.configuration.sql.transaction(async (tx) => {
      const store = new LabelStore(tx);
      const label = await store.insertScriptLabel({ scriptId, name: request.name, labelledAt, createdBy });
      if (label === null) throw new LabelNameTakenError(request.name, `Script ${scriptId}`);
      const made: SceneLabelRow[] = [];
      for (const [sceneId, point] of states) {
        const entry: NewSceneLabel = { sceneId, name: request.name, seq: point.seq, state: point.state, labelledAt, createdBy, scriptLabelId: label.labelId };
        const row = await store.insertSceneLabel(entry);
        if (row === null) throw new LabelNameTakenError(request.name, `Scene ${sceneId} of the script`);
        made.push(row);
      }
      return { label: { ...label, sceneCount: made.length }, scenes: made };
    });
  }

  scriptLabels(scriptId: string): Promise<ScriptLabelRow[]> {
    return this.store.scriptLabels(scriptId);
  }

  /** Deletes a script label and every scene label it made. */
  async deleteScriptLabel(scriptId: string, labelId: string): Promise<ScriptLabelRow> {
    const deleted = await this.store.deleteScriptLabel(scriptId, labelId);
    if (deleted === null) throw new UnknownLabelError(labelId, `script ${scriptId}`);
    return deleted;
  }

  /** `LabelLookup`: a lower-case UUID is a label id, anything else a name (names are never UUIDs). */
  async findLabel(sceneId: string, nameOrId: string): Promise<LabelledState | null> {
    const found = await this.store.findSceneLabel(sceneId, isCanonicalUuid(nameOrId) ? { labelId: nameOrId } : { name: nameOrId });
    return found === null ? null : { labelId: found.labelId, name: found.name, state: found.state, seq: found.seq };
  }

  private instantOf(request: LabelRequest): Date {
    const now = this.now();
    if (request.at === undefined) return now;
    if (request.at.getTime() > now.getTime()) throw new InvalidPointError(`"at" ${request.at.toISOString()} is in the future`);
    return request.at;
  }

  /** The scene at `at`, or as it is now: the log up to its head. */
  private async stateToLabel(sceneId: string, at: Date | undefined): Promise<PointState> {
    if (at !== undefined) return this.points.stateOf(sceneId, { at });
    const { sceneLog, loadScene } = this.configuration;
    let head = await sceneLog.head(sceneId);
    if (head === null && loadScene) {
      await loadScene(sceneId);
      head = await sceneLog.head(sceneId);
    }
    return this.points.stateOf(sceneId, { seq: head ?? 0n });
  }
}
