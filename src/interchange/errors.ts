// Why an imported file was refused. Raised by the pure parsers before anything is created, so the
// route can answer 400 and say where the file broke.

export type InterchangeFormat = 'fountain' | 'fdx';

export type InterchangeErrorCode =
  // Not text (invalid UTF-8, NUL or other control bytes), or text of another format.
  | 'NOT_A_SCREENPLAY'
  // Nothing in it (empty, or only blank lines / a title page).
  | 'EMPTY_SCREENPLAY'
  // The format's own syntax is broken (XML that does not parse, an unterminated boneyard, ...).
  | 'MALFORMED_SCREENPLAY';

export interface InterchangeErrorLocation {
  /** 1-based line of the file where the problem is. */
  line?: number;
  /** 1-based column, when the parser knows it. */
  column?: number;
  /** The element being read: an FDX paragraph index and type, a Fountain element name. */
  element?: string;
}

export class InterchangeParseError extends Error {
  constructor(
    readonly code: InterchangeErrorCode,
    readonly format: InterchangeFormat,
    /** What is wrong, without where (the message adds the location). */
    readonly detail: string,
    readonly location: InterchangeErrorLocation = {},
  ) {
    const where = [
      location.line === undefined ? null : `line ${location.line}${location.column === undefined ? '' : `, column ${location.column}`}`,
      location.element ?? null,
    ].filter((part) => part !== null);
    super(where.length === 0 ? detail : `${detail} (${where.join(', ')})`);
    this.name = 'InterchangeParseError';
  }
}

/** 1-based line of a string index. */
export function lineOfIndex(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

// Text that no screenplay holds: NUL and the C0 controls other than tab, line feed, form feed and
// carriage return (binary junk decoded as text is full of them), and U+FFFD from a lossy decode.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000E-\u001F\u007F\uFFFD]/;

/** Decodes an uploaded file as UTF-8 (a BOM is dropped) and refuses what is not text. */
export function decodeScreenplayText(bytes: Uint8Array, format: InterchangeFormat): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // fatal: true throws a TypeError without a position; find the first bad byte ourselves.
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const index = lossy.indexOf('\uFFFD');
    throw new InterchangeParseError('NOT_A_SCREENPLAY', format, 'the file is not UTF-8 text', { line: lineOfIndex(lossy, index) });
  }
  const bad = CONTROL_CHARACTER.exec(text);
  if (bad) {
    throw new InterchangeParseError('NOT_A_SCREENPLAY', format, `the file holds a control character (U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}), so it is not screenplay text`, {
      line: lineOfIndex(text, bad.index),
    });
  }
  return text;
}
