export interface RestBlockIssue {
  // Where in the input, e.g. [3, 'marks', 0, 'to'].
  path: (string | number)[];
  message: string;
}

// Input that is not a valid REST block list. Raised before any conversion work, so a caller
// (an HTTP handler, a migration job) can map it to a 400 or a "skipped: invalid" report.
export class InvalidRestBlocksError extends Error {
  readonly code = 'INVALID_REST_BLOCKS';
  readonly issues: RestBlockIssue[];

  constructor(issues: RestBlockIssue[]) {
    const shown = issues.slice(0, 5).map(formatIssue).join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    super(`invalid REST blocks: ${shown}${more}`);
    this.name = 'InvalidRestBlocksError';
    this.issues = issues;
  }
}

function formatIssue(issue: RestBlockIssue): string {
  const path = issue.path.length === 0 ? 'blocks' : `blocks${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
  return `${path}: ${issue.message}`;
}

export type ScreenplayConversionErrorCode =
  // A node or mark name the converter's schema does not define.
  | 'UNKNOWN_NODE_TYPE'
  | 'UNKNOWN_MARK_TYPE'
  // A node the schema defines but the REST mapping has no rule for (e.g. an extension added to
  // the editor without teaching the converter about it).
  | 'UNHANDLED_NODE_TYPE'
  | 'UNKNOWN_ATTRIBUTE'
  | 'INVALID_ATTRIBUTE'
  // Content that breaks the schema's content rules (a block inside a block, text at the root...).
  | 'SCHEMA_VIOLATION'
  // Something in the Y.XmlFragment that is neither an element nor text (an XmlHook, an embed).
  | 'UNSUPPORTED_YJS_CONTENT'
  | 'INVALID_TIPTAP_JSON';

// Raised when content cannot be converted without losing something. Converters never drop what
// they do not understand; they stop here instead.
export class ScreenplayConversionError extends Error {
  readonly code: ScreenplayConversionErrorCode;
  // Where in the document, e.g. 'content[4].content[0]'.
  readonly location: string | undefined;

  constructor(code: ScreenplayConversionErrorCode, message: string, options?: { location?: string; cause?: unknown }) {
    super(options?.location ? `${message} (at ${options.location})` : message, { cause: options?.cause });
    this.name = 'ScreenplayConversionError';
    this.code = code;
    this.location = options?.location;
  }
}
