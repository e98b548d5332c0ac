import { z } from 'zod';
import { StateNotRetainedError } from '../log/history.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import { HistoryNotRetainedError, InvalidPointError, SeqAheadError, UnknownLabelError } from './errors.ts';

/**
 * One way to name a point in a scene's history: an instant, a sequence number of the log, or a
 * label (by name or id). Restore, labels, diff and blame all take one of these.
 */
export type HistoryPoint = { at: Date } | { seq: bigint } | { label: string };

/** A scene's content at a point. */
export interface PointState {
  /** The Yjs state there (an update for an empty document); null when the scene had no update by then. */
  state: Uint8Array | null;
  /** The newest update the state includes; null when it includes none. */
  seq: bigint | null;
  /** The label the point named, when it named one. */
  label: { labelId: string; name: string } | null;
}

/** A label as the point resolver needs it: what it stored when it was made. */
export interface LabelledState {
  labelId: string;
  name: string;
  state: Uint8Array | null;
  seq: bigint | null;
}

/** Finds a scene's label by id (a canonical UUID) or by name; null when there is none. */
export interface LabelLookup {
  findLabel(sceneId: string, nameOrId: string): Promise<LabelledState | null>;
}

const INSTANT_MESSAGE = 'must be an ISO 8601 date-time with a time zone (2025-01-22T10:30:00Z)';
/** An instant with its offset: a time without one is ambiguous. */
export const instantSchema = z.iso.datetime({ offset: true, message: INSTANT_MESSAGE });
const DIGITS = /^[0-9]+$/;
/** Longest label reference accepted in a point (names are at most `LABEL_NAME_MAX` long; ids are 36). */
const LABEL_REFERENCE_MAX = 200;

/**
 * The point in a JSON body: exactly one of `at` (ISO 8601 instant with zone), `seq` (a log
 * sequence number, 0 = before the first update) or `label` (a label's name or id). Unknown fields
 * are refused. `pointFields` are the same fields for a body that carries more than a point.
 */
export const pointFields = {
  at: instantSchema.optional(),
  seq: z.int().nonnegative().optional(),
  label: z.string().min(1).max(LABEL_REFERENCE_MAX).optional(),
};

export const pointBodySchema = z
  .strictObject(pointFields)
  .refine((body) => [body.at, body.seq, body.label].filter((value) => value !== undefined).length === 1, {
    message: 'send exactly one of "at", "seq" and "label"',
  })
  .transform((body): HistoryPoint => pointOfFields(body));

/** The point of fields already checked to hold exactly one of `at`, `seq` and `label`. */
export function pointOfFields(fields: { at?: string | undefined; seq?: number | undefined; label?: string | undefined }): HistoryPoint {
  if (fields.at !== undefined) return { at: new Date(fields.at) };
  if (fields.seq !== undefined) return { seq: BigInt(fields.seq) };
  if (fields.label !== undefined) return { label: fields.label };
  throw new InvalidPointError('name a point: one of "at", "seq" and "label"');
}

/**
 * A point written as one string (query strings: `from=`, `to=`, which take "an instant, a seq or a
 * label"). The rule, in order:
 * 1. all ASCII digits: a seq (`42`);
 * 2. an ISO 8601 date-time with a zone: an instant (`2025-01-22T10:30:00Z`, `...+02:00`);
 * 3. anything else: a label, by id when it is a lower-case UUID, else by name.
 * Label names may never be all digits or an ISO instant (creating one is refused), so the rule
 * never hides a label. Returns null for an empty string.
 */
export function parsePointText(text: string): HistoryPoint | null {
  if (text === '') return null;
  if (DIGITS.test(text)) {
    const seq = BigInt(text);
    return { seq };
  }
  if (instantSchema.safeParse(text).success) return { at: new Date(text) };
  return { label: text };
}

/** `parsePointText` as a zod schema for a query parameter. */
export const pointTextSchema = z
  .string()
  .min(1, 'must be an instant (ISO 8601 with zone), a seq (digits) or a label name or id')
  .max(LABEL_REFERENCE_MAX)
  .transform((text) => parsePointText(text)!);

/** True when `text` would read as a seq or an instant under `parsePointText` (so it cannot be a label name). */
export function readsAsSeqOrInstant(text: string): boolean {
  const point = parsePointText(text);
  return point !== null && !('label' in point);
}

/** The point as JSON, for responses (`{seq: 12}`, `{at: "..."}`, `{label: "Draft 2"}`). */
export function pointJson(point: HistoryPoint): { at: string } | { seq: number } | { label: string } {
  if ('at' in point) return { at: point.at.toISOString() };
  if ('seq' in point) return { seq: Number(point.seq) };
  return { label: point.label };
}

/**
 * Resolves a point of a scene's history to the Yjs state there, from what the log retains
 * (`sceneLog.history`) or, for a label, from the state the label stored when it was made (a
 * checkpoint compaction and retention never touch, so a labelled state stays restorable).
 *
 * Refusals (`HistoryError`s): `SeqAheadError` (400) for a seq beyond the log's head,
 * `HistoryNotRetainedError` (410) when retention deleted what the state depends on,
 * `UnknownLabelError` (404), `InvalidPointError` (400).
 */
export class HistoryPoints {
  constructor(
    private readonly log: Pick<SceneLog, 'head' | 'history'>,
    private readonly labels: LabelLookup | null = null,
  ) {}

  async stateOf(sceneId: string, point: HistoryPoint): Promise<PointState> {
    if ('seq' in point) return this.stateAtSeq(sceneId, point.seq);
    if ('at' in point) return this.stateAt(sceneId, point.at);
    return this.stateOfLabel(sceneId, point.label);
  }

  private async stateAtSeq(sceneId: string, seq: bigint): Promise<PointState> {
    const head = await this.log.head(sceneId);
    if (seq > (head ?? 0n)) throw new SeqAheadError(seq, head);
    // Seq 0 is the scene before its first update.
    if (seq === 0n) return { state: null, seq: null, label: null };
    try {
      return { state: await this.log.history.stateAtSeq(sceneId, seq), seq, label: null };
    } catch (error) {
      if (error instanceof StateNotRetainedError) throw new HistoryNotRetainedError(`seq ${seq}`);
      throw error;
    }
  }

  private async stateAt(sceneId: string, at: Date): Promise<PointState> {
    if (Number.isNaN(at.getTime())) throw new InvalidPointError('"at" is not a valid instant');
    const past = await this.log.history.stateAt(sceneId, at);
    if (!past.complete) throw new HistoryNotRetainedError(at.toISOString());
    return { state: past.state, seq: past.seq, label: null };
  }

  private async stateOfLabel(sceneId: string, nameOrId: string): Promise<PointState> {
    const found = this.labels === null ? null : await this.labels.findLabel(sceneId, nameOrId);
    if (found === null) throw new UnknownLabelError(nameOrId, `scene ${sceneId}`);
    return { state: found.state, seq: found.seq, label: { labelId: found.labelId, name: found.name } };
  }
}
