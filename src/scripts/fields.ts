// The rules for what a person types into a script's fields: its title, its title page, a scene's
// heading. One set of zod schemas, used by the routes (400 with the path of each problem) and by
// `ScriptStore.createScriptWithScenes` for callers that bypass the routes (an import).
import { z } from 'zod';

export const MAX_TITLE_LENGTH = 300;
export const MAX_HEADING_LENGTH = 500;
export const MAX_TITLE_PAGE_FIELDS = 20;
export const MAX_TITLE_PAGE_VALUE_LENGTH = 2000;
/** The whole title page as JSON, in UTF-8 bytes: a title page is a page. */
export const MAX_TITLE_PAGE_BYTES = 8 * 1024;

// PostgreSQL stores no NUL in text or jsonb: refused here as bad input rather than failing the insert.
// Other control characters have no place in a one-line field either.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A non-empty line: surrounding whitespace is trimmed, a line break or other control character inside is refused. */
export const scriptTitleSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_TITLE_LENGTH, `must be at most ${MAX_TITLE_LENGTH} characters`)
  .refine((title) => !CONTROL_CHARACTERS.test(title), { message: 'must be one line without control characters' });

/** A scene's heading (slugline), or null for none. Trimmed; an empty heading is none. */
export const sceneHeadingSchema = z
  .string()
  .trim()
  .max(MAX_HEADING_LENGTH, `must be at most ${MAX_HEADING_LENGTH} characters`)
  .refine((heading) => !CONTROL_CHARACTERS.test(heading), { message: 'must be one line without control characters' })
  .transform((heading) => (heading === '' ? null : heading))
  .nullable();

/**
 * A title page: an object of string fields such as `title`, `credit`, `author`, `source`,
 * `draft_date`, `contact` (the Fountain and Final Draft title-page keys, snake_case). Any such key
 * is taken, so a format's less common fields (`copyright`, `notes`) survive an import; values are
 * kept exactly (line breaks included: a contact block has several lines).
 */
export const titlePageSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'keys are snake_case names of at most 40 characters (title, credit, author, source, draft_date, contact, ...)'),
    z
      .string()
      .max(MAX_TITLE_PAGE_VALUE_LENGTH, `each value must be at most ${MAX_TITLE_PAGE_VALUE_LENGTH} characters`)
      .refine((value) => !value.includes('\u0000'), { message: 'must not contain NUL' }),
  )
  .refine((page) => Object.keys(page).length <= MAX_TITLE_PAGE_FIELDS, { message: `at most ${MAX_TITLE_PAGE_FIELDS} fields` })
  .refine((page) => Buffer.byteLength(JSON.stringify(page)) <= MAX_TITLE_PAGE_BYTES, { message: `at most ${MAX_TITLE_PAGE_BYTES} bytes as JSON` });

export type TitlePage = z.infer<typeof titlePageSchema>;

/** A 0-based position among a script's live scenes. */
export const scenePositionSchema = z.int('must be an integer').min(0, 'must be 0 or more').max(1_000_000, 'must be at most 1000000');
