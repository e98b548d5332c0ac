import { isUtf8 } from 'node:buffer';
import * as decoding from 'lib0/decoding';

/**
 * Whether a Yjs v1 update certainly passes the guards' check (`updateProblem` returns null for it),
 * read without building anything: the bytes are walked the way `Y.decodeUpdate` reads them, and
 * strings are validated, not decoded.
 *
 * `true` is a promise; `false` only means "not vouched for": the update may have a problem, or it
 * holds something this walk does not read (JSON, embed, format and subdocument content, whose
 * validity depends on parsing JSON or building a document), or a length runs past its bytes. The
 * caller then runs the full check, which alone decides what is refused or quarantined. Loading a
 * scene checks every stored update before applying any of them; for a long log of typing this
 * takes a fraction of the full check's time.
 */
export function quicklySound(update: Uint8Array): boolean {
  try {
    const walk = new Walk(update);
    return walk.structs() && walk.deleteSet();
  } catch {
    // lib0 throws on a variable-length integer that runs out of bytes or out of range.
    return false;
  }
}

/** Item content kinds (`info & 0b11111`) read without parsing; the others are left to the full check. */
const DELETED = 1;
const BINARY = 3;
const STRING = 4;
const TYPE = 7;
const ANY = 8;
const SKIP = 10;
/** Type refs whose content carries a name (`Y.XmlElement`, `Y.XmlHook`); refs above 6 do not exist. */
const XML_ELEMENT = 3;
const XML_HOOK = 5;
const LAST_TYPE_REF = 6;
/** lib0 `any` encoding tags, from 127 down to 116; undefined, null, false and true carry no payload. */
const ANY_TAG = {
  undefined: 127,
  integer: 125,
  float32: 124,
  float64: 123,
  bigint64: 122,
  string: 119,
  object: 118,
  array: 117,
  binary: 116,
} as const;

class Walk {
  private readonly decoder: decoding.Decoder;

  constructor(private readonly bytes: Uint8Array) {
    this.decoder = decoding.createDecoder(bytes);
  }

  private get remaining(): number {
    return this.bytes.length - this.decoder.pos;
  }

  private uint(): number {
    return decoding.readVarUint(this.decoder);
  }

  /** Skips `length` bytes; false when they are not there (lib0 would read past the update's end). */
  private skip(length: number): boolean {
    if (length > this.remaining) return false;
    this.decoder.pos += length;
    return true;
  }

  /** A length-prefixed string: its UTF-16 length, or -1 when it is cut short or not valid UTF-8. */
  private string(): number {
    const length = this.uint();
    if (length > this.remaining) return -1;
    const start = this.decoder.pos;
    const bytes = this.bytes.subarray(start, start + length);
    this.decoder.pos += length;
    if (!isUtf8(bytes)) return -1;
    let units = 0;
    // Every byte that does not continue a character starts one; four-byte ones are two UTF-16 units.
    for (const byte of bytes) if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
    return units;
  }

  /** False when `client:clock` refers to the item's own client at its own clock or later (see `inspectUpdate`). */
  private id(client: number, clock: number): boolean {
    const refClient = this.uint();
    const refClock = this.uint();
    return !(refClient === client && refClock >= clock);
  }

  structs(): boolean {
    const clients = this.uint();
    for (let c = 0; c < clients; c += 1) {
      const count = this.uint();
      const client = this.uint();
      let clock = this.uint();
      // Every struct takes at least a byte: a larger count cannot be read.
      if (count > this.remaining) return false;
      for (let s = 0; s < count; s += 1) {
        const length = this.struct(client, clock);
        if (length < 0) return false;
        clock += length;
      }
    }
    return true;
  }

  /** Reads one struct; its length in clock units, or -1. */
  private struct(client: number, clock: number): number {
    if (this.remaining < 1) return -1;
    const info = this.bytes[this.decoder.pos++]!;
    if (info === SKIP || (info & 0b11111) === 0) return this.uint();
    if ((info & 0x80) !== 0 && !this.id(client, clock)) return -1;
    if ((info & 0x40) !== 0 && !this.id(client, clock)) return -1;
    if ((info & 0xc0) === 0) {
      if (this.uint() === 1) {
        if (this.string() < 0) return -1;
      } else if (!this.id(client, clock)) {
        return -1;
      }
      if ((info & 0x20) !== 0 && this.string() < 0) return -1;
    }
    return this.content(info & 0b11111);
  }

  private content(kind: number): number {
    switch (kind) {
      case DELETED:
        return this.uint();
      case BINARY:
        return this.skip(this.uint()) ? 1 : -1;
      case STRING:
        return this.string();
      case TYPE: {
        const ref = this.uint();
        if (ref > LAST_TYPE_REF) return -1;
        if ((ref === XML_ELEMENT || ref === XML_HOOK) && this.string() < 0) return -1;
        return 1;
      }
      case ANY: {
        const count = this.uint();
        if (count > this.remaining) return -1;
        for (let i = 0; i < count; i += 1) if (!this.any(0)) return -1;
        return count;
      }
      default:
        return -1;
    }
  }

  /** One lib0 `any` value; nesting deeper than 100 is left to the full check. */
  private any(depth: number): boolean {
    if (depth > 100 || this.remaining < 1) return false;
    const tag = this.bytes[this.decoder.pos++]!;
    if (tag > ANY_TAG.undefined || tag < ANY_TAG.binary) return false;
    switch (tag) {
      case ANY_TAG.integer:
        // lib0 reads an integer's first byte without a bounds check: past the end it reads nothing.
        decoding.readVarInt(this.decoder);
        return this.decoder.pos <= this.bytes.length;
      case ANY_TAG.float32:
        return this.skip(4);
      case ANY_TAG.float64:
      case ANY_TAG.bigint64:
        return this.skip(8);
      case ANY_TAG.string:
        return this.string() >= 0;
      case ANY_TAG.object: {
        // key, value pairs
        const count = this.uint();
        if (count > this.remaining) return false;
        for (let i = 0; i < count; i += 1) if (this.string() < 0 || !this.any(depth + 1)) return false;
        return true;
      }
      case ANY_TAG.array: {
        const count = this.uint();
        if (count > this.remaining) return false;
        for (let i = 0; i < count; i += 1) if (!this.any(depth + 1)) return false;
        return true;
      }
      case ANY_TAG.binary:
        return this.skip(this.uint());
      default:
        // undefined, null, false, true: the tag is the value
        return true;
    }
  }

  deleteSet(): boolean {
    const clients = this.uint();
    for (let c = 0; c < clients; c += 1) {
      this.uint(); // client
      const ranges = this.uint();
      if (ranges > this.remaining) return false;
      for (let r = 0; r < ranges; r += 1) {
        this.uint(); // clock
        // Yjs never writes an empty range; the full check refuses one.
        if (!(this.uint() > 0)) return false;
      }
    }
    return true;
  }
}
