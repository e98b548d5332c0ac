// The refusals of src/history, each with the HTTP status it means and a stable code. The HTTP
// error handler turns any `HistoryError` into `status` and `{error, code}`, so a route that names
// a point in history (restore, labels, diff, blame) throws them as they are.
import { Refusal } from '../errors.ts';

/** Something src/history refuses; `status` is what it means to an HTTP client. */
export class HistoryError extends Refusal {}

/** The point names none or several of `at`, `seq` and `label`, or one that cannot be read. */
export class InvalidPointError extends HistoryError {
  constructor(message: string) {
    super(400, 'INVALID_POINT', message);
  }
}

/** A `seq` beyond the newest update of the scene's log. */
export class SeqAheadError extends HistoryError {
  constructor(
    readonly seq: bigint,
    readonly latestSeq: bigint | null,
  ) {
    super(400, 'SEQ_AHEAD', `seq ${seq} is ahead of the scene's log (latest seq ${latestSeq ?? 'none'})`);
  }
}

/** Compaction merged the updates up to the point and retention deleted the originals. */
export class HistoryNotRetainedError extends HistoryError {
  constructor(what: string) {
    super(410, 'HISTORY_NOT_RETAINED', `The log no longer holds every update up to ${what}: compaction merged them and retention deleted the originals`);
  }
}

/** No label of that name or id on the scene (or script). */
export class UnknownLabelError extends HistoryError {
  constructor(label: string, where: string) {
    super(404, 'UNKNOWN_LABEL', `No label ${JSON.stringify(label.length > 64 ? `${label.slice(0, 64)}…` : label)} on ${where}`);
  }
}

/** The scene (or script) already has a label of that name. */
export class LabelNameTakenError extends HistoryError {
  constructor(name: string, where: string) {
    super(409, 'LABEL_NAME_TAKEN', `${where} already has a label named ${JSON.stringify(name)}`);
  }
}

/** A scene label made by a script label is deleted with the script label, not on its own. */
export class LabelOfScriptError extends HistoryError {
  constructor(
    readonly labelId: string,
    readonly scriptLabelId: string,
  ) {
    super(409, 'LABEL_OF_SCRIPT_LABEL', `Label ${labelId} is part of script label ${scriptLabelId}; delete that one instead`);
  }
}
