import type { SqlExecutor } from '../db/sql.ts';
import { toBuffer, toSeq, type Numeric } from '../log/rows.ts';

/** A scene label as listed (without its stored state). */
export interface SceneLabelRow {
  labelId: string;
  sceneId: string;
  name: string;
  seq: bigint | null;
  labelledAt: Date;
  createdAt: Date;
  createdBy: string | null;
  /** The script label this one is part of, or null for a label of the scene alone. */
  scriptLabelId: string | null;
}

/** A scene label with the Yjs state it keeps. */
export interface StoredSceneLabel extends SceneLabelRow {
  state: Uint8Array | null;
}

export interface ScriptLabelRow {
  labelId: string;
  scriptId: string;
  name: string;
  labelledAt: Date;
  createdAt: Date;
  createdBy: string | null;
  /** Scene labels it made (scenes deleted since take theirs with them). */
  sceneCount: number;
}

export interface NewSceneLabel {
  sceneId: string;
  name: string;
  seq: bigint | null;
  state: Uint8Array | null;
  labelledAt: Date;
  createdBy: string | null;
  scriptLabelId?: string | null;
}

interface SceneLabelDbRow {
  label_id: string;
  scene_id: string;
  name: string;
  seq: Numeric | null;
  labelled_at: Date;
  created_at: Date;
  created_by: string | null;
  script_label_id: string | null;
  yjs_state?: Uint8Array | null;
}

interface ScriptLabelDbRow {
  label_id: string;
  script_id: string;
  name: string;
  labelled_at: Date;
  created_at: Date;
  created_by: string | null;
  scene_count?: Numeric;
}

const SCENE_LABEL_COLUMNS = 'label_id, scene_id, name, seq, labelled_at, created_at, created_by, script_label_id';
const SCRIPT_LABEL_COLUMNS = 'label_id, script_id, name, labelled_at, created_at, created_by';

/**
 * The owner of the label tables (`scene_labels`, `script_labels`): every statement that reads or
 * writes them is here, through the `SqlExecutor` with a stable name. A scene label keeps the Yjs
 * state it names (a checkpoint outside the log), so compaction and retention, which only touch
 * `scene_versions`, can never take away what a label needs to be restored.
 *
 * Inserts report a name already taken as `null` (`ON CONFLICT DO NOTHING`), not as a driver error:
 * the unique index decides, so two writers labelling at once cannot both get one name.
 */
export class LabelStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Null when the scene already has a label of that name. */
  async insertSceneLabel(label: NewSceneLabel): Promise<SceneLabelRow | null> {
    const [row] = await this.sql.query<SceneLabelDbRow>(
      'scene_labels_insert',
      `INSERT INTO scene_labels (scene_id, name, seq, yjs_state, labelled_at, created_by, script_label_id)
       VALUES ($1::uuid, $2, $3::bigint, $4::bytea, $5, $6::uuid, $7::uuid)
       ON CONFLICT (scene_id, name) DO NOTHING
       RETURNING ${SCENE_LABEL_COLUMNS}`,
      [
        label.sceneId,
        label.name,
        label.seq === null ? null : label.seq.toString(),
        label.state === null ? null : toBuffer(label.state),
        label.labelledAt,
        label.createdBy,
        label.scriptLabelId ?? null,
      ],
    );
    return row ? toSceneLabel(row) : null;
  }

  /** A scene's labels, oldest labelled first. */
  async sceneLabels(sceneId: string): Promise<SceneLabelRow[]> {
    const rows = await this.sql.query<SceneLabelDbRow>(
      'scene_labels_of_scene',
      `SELECT ${SCENE_LABEL_COLUMNS} FROM scene_labels WHERE scene_id = $1::uuid ORDER BY labelled_at, created_at, label_id`,
      [sceneId],
    );
    return rows.map(toSceneLabel);
  }

  /** The scene's label with this id or this name, with its state. */
  async findSceneLabel(sceneId: string, reference: { labelId: string } | { name: string }): Promise<StoredSceneLabel | null> {
    const [row] =
      'labelId' in reference
        ? await this.sql.query<SceneLabelDbRow>(
            'scene_labels_find_by_id',
            `SELECT ${SCENE_LABEL_COLUMNS}, yjs_state FROM scene_labels WHERE scene_id = $1::uuid AND label_id = $2::uuid`,
            [sceneId, reference.labelId],
          )
        : await this.sql.query<SceneLabelDbRow>(
            'scene_labels_find_by_name',
            `SELECT ${SCENE_LABEL_COLUMNS}, yjs_state FROM scene_labels WHERE scene_id = $1::uuid AND name = $2`,
            [sceneId, reference.name],
          );
    if (!row) return null;
    return { ...toSceneLabel(row), state: row.yjs_state == null ? null : new Uint8Array(row.yjs_state) };
  }

  /** Deletes one label of the scene; the deleted row, or null when there was none. */
  async deleteSceneLabel(sceneId: string, labelId: string): Promise<SceneLabelRow | null> {
    const [row] = await this.sql.query<SceneLabelDbRow>(
      'scene_labels_delete',
      `DELETE FROM scene_labels WHERE scene_id = $1::uuid AND label_id = $2::uuid RETURNING ${SCENE_LABEL_COLUMNS}`,
      [sceneId, labelId],
    );
    return row ? toSceneLabel(row) : null;
  }

  /** Null when the script already has a label of that name. */
  async insertScriptLabel(label: { scriptId: string; name: string; labelledAt: Date; createdBy: string | null }): Promise<ScriptLabelRow | null> {
    const [row] = await this.sql.query<ScriptLabelDbRow>(
      'script_labels_insert',
      `INSERT INTO script_labels (script_id, name, labelled_at, created_by)
       VALUES ($1::uuid, $2, $3, $4::uuid)
       ON CONFLICT (script_id, name) DO NOTHING
       RETURNING ${SCRIPT_LABEL_COLUMNS}`,
      [label.scriptId, label.name, label.labelledAt, label.createdBy],
    );
    return row ? toScriptLabel(row) : null;
  }

  /** A script's labels with how many scene labels each holds, oldest labelled first. */
  async scriptLabels(scriptId: string): Promise<ScriptLabelRow[]> {
    const rows = await this.sql.query<ScriptLabelDbRow>(
      'script_labels_of_script',
      `SELECT ${SCRIPT_LABEL_COLUMNS.split(', ').map((column) => `l.${column}`).join(', ')},
              (SELECT count(*) FROM scene_labels s WHERE s.script_label_id = l.label_id) AS scene_count
       FROM script_labels l WHERE l.script_id = $1::uuid ORDER BY l.labelled_at, l.created_at, l.label_id`,
      [scriptId],
    );
    return rows.map(toScriptLabel);
  }

  /** Deletes a script label and, by the foreign key's cascade, its scene labels (counted in `sceneCount`); null when there was none. */
  async deleteScriptLabel(scriptId: string, labelId: string): Promise<ScriptLabelRow | null> {
    const [row] = await this.sql.query<ScriptLabelDbRow>(
      'script_labels_delete',
      // The count reads the snapshot before the statement: the scene labels the cascade deletes.
      `WITH gone AS (DELETE FROM script_labels WHERE script_id = $1::uuid AND label_id = $2::uuid RETURNING ${SCRIPT_LABEL_COLUMNS})
       SELECT gone.*, (SELECT count(*) FROM scene_labels s WHERE s.script_label_id = gone.label_id) AS scene_count FROM gone`,
      [scriptId, labelId],
    );
    return row ? toScriptLabel(row) : null;
  }
}

function toSceneLabel(row: SceneLabelDbRow): SceneLabelRow {
  return {
    labelId: row.label_id,
    sceneId: row.scene_id,
    name: row.name,
    seq: toSeq(row.seq),
    labelledAt: new Date(row.labelled_at),
    createdAt: new Date(row.created_at),
    createdBy: row.created_by,
    scriptLabelId: row.script_label_id,
  };
}

function toScriptLabel(row: ScriptLabelDbRow): ScriptLabelRow {
  return {
    labelId: row.label_id,
    scriptId: row.script_id,
    name: row.name,
    labelledAt: new Date(row.labelled_at),
    createdAt: new Date(row.created_at),
    createdBy: row.created_by,
    sceneCount: row.scene_count === undefined ? 0 : Number(row.scene_count),
  };
}
