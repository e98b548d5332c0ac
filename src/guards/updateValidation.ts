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

/** Which clocks of each client an update carries, as `Y.parseUpdateMeta` gives them, and what it deletes. */
export interface UpdateMeta {
  from: Map<number, number>;
  to: Map<number, number>;
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
  const meta: UpdateMeta = { from: new Map(), to: new Map(), deletes: new Map() };
  let previousClient: number | null = null;
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id;
    // As Y.parseUpdateMeta reads it: a run of one client's structs starts at its first clock.
    if (client !== previousClient) meta.from.set(client, clock);
    previousClient = client;
    meta.to.set(client, clock + struct.length);
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
  return { problem: null, meta };
}

function refused(problem: UpdateProblem): UpdateInspection {
  return { problem, meta: null };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 120 ? `${message.slice(0, 120)}…` : message;
}
