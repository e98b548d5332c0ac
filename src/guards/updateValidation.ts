import * as Y from 'yjs';

export type UpdateProblem =
  | { kind: 'too-large'; detail: string }
  | { kind: 'malformed'; detail: string };

/**
 * Why a client's Yjs update must not be stored, or null when it may be.
 *
 * `Y.decodeUpdate` reads every struct and the delete set without touching a document, which
 * catches truncation, garbage and impossible lengths. It does not catch every update that then
 * throws halfway through `Y.applyUpdate`: an item whose left or right origin, or parent, is an id
 * of its own client at its own clock or later makes Yjs look up a struct that cannot exist yet
 * (a mutated-update fuzz found these among ~0.5% of the updates that decode). Yjs itself never
 * produces one, since a client's references always point to what it had already created, so they
 * are refused too, as are empty delete ranges, which throw the same way. An update that throws
 * during apply would otherwise be stored first (the log appends before the document applies) and
 * leave half of itself in the live document.
 */
export function updateProblem(update: Uint8Array, maxBytes: number): UpdateProblem | null {
  return inspectUpdate(update, maxBytes).problem;
}

/**
 * Per Yjs client, the clock ranges `[from, to)` of the structs an update carries, sorted and
 * disjoint. A merge marks what it lacks between two runs as skipped; a skipped range carries no
 * content and is left out, so a range is always content the update holds.
 */
export type StructRanges = Map<number, Array<[number, number]>>;

/** Which clocks of each client an update carries, and what it deletes. */
export interface UpdateMeta {
  structs: StructRanges;
  /** The update's delete set: per client, the `[clock, length]` ranges it deletes. */
  deletes: Map<number, Array<[number, number]>>;
}

export type UpdateInspection = { problem: UpdateProblem; meta: null } | { problem: null; meta: UpdateMeta };

/**
 * `updateProblem`, and for an update without one its meta, read in the same decode: a client's
 * update is decoded once on arrival, not again to tell whether the document already has it.
 */
export function inspectUpdate(update: Uint8Array, maxBytes: number): UpdateInspection {
  if (update.byteLength > maxBytes) {
    return refused({ kind: 'too-large', detail: `the update is ${update.byteLength} bytes; the limit is ${maxBytes}` });
  }
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch (error) {
    return refused({ kind: 'malformed', detail: `it does not decode as a Yjs update (${describe(error)})` });
  }
  const meta: UpdateMeta = { structs: new Map(), deletes: new Map() };
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id;
    if (!(struct instanceof Y.Skip)) addRange(meta.structs, client, clock, clock + struct.length);
    if (!(struct instanceof Y.Item)) continue;
    const parent = struct.parent instanceof Y.ID ? struct.parent : null;
    for (const ref of [struct.origin, struct.rightOrigin, parent]) {
      if (ref && ref.client === client && ref.clock >= clock) {
        return refused({ kind: 'malformed', detail: `item ${client}:${clock} refers to ${ref.client}:${ref.clock}, which it cannot have seen` });
      }
    }
  }
  // Yjs never writes an empty delete range, and one that lands beyond the document's state makes
  // applyUpdate throw while it re-encodes the pending deletes.
  for (const [client, ranges] of decoded.ds.clients) {
    for (const range of ranges) {
      if (!(range.len > 0)) return refused({ kind: 'malformed', detail: `an empty delete range for client ${client} at ${range.clock}` });
    }
    meta.deletes.set(client, ranges.map((range) => [range.clock, range.len]));
  }
  for (const ranges of meta.structs.values()) normalizeRanges(ranges);
  return { problem: null, meta };
}

/**
 * Adds `[from, to)` to a client's ranges. A client's structs come as one run of consecutive
 * clocks, so the common case extends the last range; `normalizeRanges` sorts and joins the rest
 * (a forged update may name a client twice).
 */
function addRange(structs: StructRanges, client: number, from: number, to: number): void {
  const ranges = structs.get(client);
  if (!ranges) {
    structs.set(client, [[from, to]]);
    return;
  }
  const last = ranges[ranges.length - 1]!;
  if (last[1] === from) last[1] = to;
  else ranges.push([from, to]);
}

/** Sorts a client's ranges and joins those that touch or overlap, in place. */
export function normalizeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  if (ranges.length < 2) return ranges;
  ranges.sort((a, b) => a[0] - b[0]);
  let kept = 0;
  for (let i = 1; i < ranges.length; i += 1) {
    const last = ranges[kept]!;
    const next = ranges[i]!;
    if (next[0] <= last[1]) last[1] = Math.max(last[1], next[1]);
    else ranges[++kept] = next;
  }
  ranges.length = kept + 1;
  return ranges;
}

function refused(problem: UpdateProblem): UpdateInspection {
  return { problem, meta: null };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 120 ? `${message.slice(0, 120)}…` : message;
}
