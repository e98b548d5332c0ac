// Generated screenplays for the interchange property tests: documents shaped the way writers
// write them (a scene heading, then action and speeches), with the characters each format has to
// escape or force mixed in.
import fc from 'fast-check';
import type { CanonicalRestBlock, RestMark } from '../../src/screenplay/index.ts';
import type { ScreenplayDocument } from '../../src/interchange/document.ts';
import { scenesOfBlocks, titleOfTitlePage } from '../../src/interchange/scenes.ts';
import { marksOfRuns, runsOfMarks } from '../../src/interchange/marks.ts';

const letters = 'abcdefghijklmnopqrstuvwxyz';
const wordArb = (alphabet: string, specials: string) =>
  fc
    .tuple(
      fc.constantFrom(...alphabet.split('')),
      fc.array(fc.constantFrom(...(alphabet + alphabet + specials).split('')), { maxLength: 7 }),
    )
    .map(([first, rest]) => first + rest.join(''));

// Lines of words separated by single spaces; a line starts with a letter.
const lineArb = (alphabet: string, specials: string, maxWords = 8) =>
  fc.array(wordArb(alphabet, specials), { minLength: 1, maxLength: maxWords }).map((words) => words.join(' ').replace(/\s+/g, ' ').trim());

const proseAlphabet = letters + letters.toUpperCase() + "0123456789";
// Characters Fountain escapes or treats specially inside text, and XML's own.
const proseSpecials = "*_\\/[]#@!.,;:'\"&<>$~=-()?";

const proseLineArb = lineArb(proseAlphabet, proseSpecials);
const capsLineArb = lineArb(letters.toUpperCase(), " '-.");

// Marks on word boundaries or anywhere: ranges over the text, merged the canonical way.
function withMarks(textArb: fc.Arbitrary<string>): fc.Arbitrary<{ text: string; marks: RestMark[] }> {
  return textArb.chain((text) =>
    fc
      .array(
        fc.record({
          type: fc.constantFrom('bold' as const, 'italic' as const, 'underline' as const),
          from: fc.nat({ max: text.length }),
          length: fc.nat({ max: text.length }),
        }),
        { maxLength: 3 },
      )
      .map((raw) => {
        const marks = raw.map(({ type, from, length }) => ({ type, from, to: Math.min(text.length, from + length) }));
        return marksOfRuns(runsOfMarks(text, marks));
      }),
  );
}

function block(type: string, styled: { text: string; marks: RestMark[] }, extra: Record<string, string | number> = {}): CanonicalRestBlock {
  return { type, text: styled.text, ...(styled.marks.length > 0 ? { marks: styled.marks } : {}), ...extra };
}

const plain = (text: string) => ({ text, marks: [] as RestMark[] });

const sceneHeadingArb = fc
  .tuple(
    fc.constantFrom('INT.', 'EXT.', 'INT./EXT.', 'EST.'),
    capsLineArb,
    fc.constantFrom('DAY', 'NIGHT', 'CONTINUOUS', 'LATER'),
    fc.option(fc.stringMatching(/^[1-9][0-9]{0,2}[A-Z]?$/), { nil: undefined }),
  )
  .map(([prefix, place, time, number]) =>
    block('scene_heading', plain(`${prefix} ${place} - ${time}`), number === undefined ? {} : { scene_number: number }),
  );

// A heading Fountain only reads with its forced "." prefix.
const forcedHeadingArb = capsLineArb.map((text) => block('scene_heading', plain(`FLASHBACK ${text}`)));

const actionArb = withMarks(fc.array(proseLineArb, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'))).map((s) => block('action', s));
const capsActionArb = capsLineArb.map((text) => block('action', plain(`${text}.`)));

const cueArb = fc
  .tuple(
    fc.oneof(capsLineArb.map((t) => t.replace(/[^A-Z ]/g, '').trim() || 'MAYA'), fc.constant('McGREGOR')),
    fc.constantFrom('', ' (V.O.)', ' (O.S.)', " (CONT'D)"),
  )
  .map(([name, extension]) => `${name}${extension}`);

const speechArb = fc
  .tuple(
    cueArb,
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: withMarks(fc.array(proseLineArb, { minLength: 1, maxLength: 2 }).map((l) => l.join('\n'))).map((s) => block('dialogue', s)) },
        { weight: 1, arbitrary: lineArb(letters, ' ', 3).map((t) => block('parenthetical', plain(`(${t})`))) },
        { weight: 1, arbitrary: lineArb(proseAlphabet, ",.'", 5).map((t) => block('lyric', plain(t))) },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  // A speech starts with its dialogue or a parenthetical, never a lyric (Fountain reads "~" right
  // after a cue as a lyric paragraph of its own), and two dialogue blocks never follow each other
  // (Fountain has one dialogue per run of lines, one lyric per run of ~ lines: they would read back
  // as one block).
  .map(([cue, parts]) => {
    const speech = parts[0].type === 'lyric' ? [block('dialogue', plain('Yes.')), ...parts] : parts;
    const separated = speech.filter((part, i) => !(part.type !== 'parenthetical' && speech[i - 1]?.type === part.type));
    return [block('character', plain(cue)), ...separated];
  });

const dualArb = fc.tuple(speechArb, speechArb).map(([left, right]) => [
  { ...left[0], dual: 'left' },
  ...left.slice(1),
  { ...right[0], dual: 'right' },
  ...right.slice(1),
]);

const transitionArb = fc.oneof(
  fc.constantFrom('CUT TO:', 'SMASH CUT TO:', 'FADE OUT.', 'DISSOLVE TO:').map((t) => block('transition', plain(t))),
  lineArb(letters, '', 2).map((t) => block('transition', plain(`Fade to ${t}`))),
);

const centeredArb = capsLineArb.map((t) => block('centered', plain(t)));
const noteArb = lineArb(proseAlphabet, ',.:;', 6).map((t) => block('note', plain(t)));
const sectionArb = fc.tuple(lineArb(proseAlphabet, ' ', 4), fc.integer({ min: 1, max: 3 })).map(([t, depth]) => block('section', plain(t), { depth }));
const synopsisArb = lineArb(proseAlphabet, ',.', 6).map((t) => block('synopsis', plain(t)));
const boneyardArb = fc.array(lineArb(proseAlphabet, ',.', 5), { minLength: 1, maxLength: 2 }).map((l) => block('boneyard', plain(` ${l.join('\n')} `)));
const pageBreakArb = fc.constant(block('page_break', plain('')));

const fountainElementArb = fc.oneof(
  { weight: 5, arbitrary: actionArb.map((b) => [b]) },
  { weight: 1, arbitrary: capsActionArb.map((b) => [b]) },
  { weight: 5, arbitrary: speechArb },
  { weight: 1, arbitrary: dualArb },
  { weight: 1, arbitrary: transitionArb.map((b) => [b]) },
  { weight: 1, arbitrary: centeredArb.map((b) => [b]) },
  { weight: 1, arbitrary: noteArb.map((b) => [b]) },
  { weight: 1, arbitrary: sectionArb.map((b) => [b]) },
  { weight: 1, arbitrary: synopsisArb.map((b) => [b]) },
  { weight: 1, arbitrary: boneyardArb.map((b) => [b]) },
  { weight: 1, arbitrary: pageBreakArb.map((b) => [b]) },
);

const titlePageArb = fc.record(
  {
    title: capsLineArb,
    credit: fc.constant('Written by'),
    author: lineArb(proseAlphabet, "'-", 3),
    draft_date: lineArb(proseAlphabet, '/', 3),
    contact: fc.array(lineArb(proseAlphabet, ',.', 4), { minLength: 1, maxLength: 3 }).map((l) => l.join('\n')),
  },
  { requiredKeys: [] },
);

function documentOf(titlePage: Record<string, string>, blocks: CanonicalRestBlock[]): ScreenplayDocument {
  return { title: titleOfTitlePage(titlePage), titlePage, scenes: scenesOfBlocks(blocks) };
}

const scenesBlocksArb = (elementArb: fc.Arbitrary<CanonicalRestBlock[]>) =>
  fc
    .tuple(
      fc.array(fc.oneof(noteArb, sectionArb, synopsisArb), { maxLength: 2 }),
      fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: sceneHeadingArb }, { weight: 1, arbitrary: forcedHeadingArb }), fc.array(elementArb, { maxLength: 6 })), {
        minLength: 1,
        maxLength: 5,
      }),
    )
    .map(([before, scenes]) => [...before, ...scenes.flatMap(([heading, elements]) => [heading, ...elements.flat()])]);

/** Screenplays with every Fountain element. */
export const fountainDocumentArb: fc.Arbitrary<ScreenplayDocument> = fc
  .tuple(titlePageArb, scenesBlocksArb(fountainElementArb))
  .map(([titlePage, blocks]) => documentOf(titlePage as Record<string, string>, blocks));

const fdxTextArb = fc.array(fc.string({ unit: fc.constantFrom(...(proseAlphabet + proseSpecials + ' \n\t').split('')), maxLength: 40 }), { maxLength: 1 }).map((t) => t[0] ?? '');

const fdxElementArb = fc.oneof(
  { weight: 4, arbitrary: withMarks(fdxTextArb).map((s) => [block('action', s)]) },
  { weight: 4, arbitrary: speechArb.map((speech) => speech.map((b) => (b.type === 'lyric' ? block('dialogue', plain(b.text)) : b))) },
  {
    weight: 1,
    arbitrary: dualArb.map((speech) => speech.map((b) => (b.type === 'lyric' ? block('dialogue', plain(b.text)) : b))),
  },
  { weight: 1, arbitrary: transitionArb.map((b) => [b]) },
  { weight: 1, arbitrary: centeredArb.map((b) => [b]) },
  { weight: 1, arbitrary: withMarks(fdxTextArb).map((s) => [block('general', s)]) },
  { weight: 1, arbitrary: capsLineArb.map((t) => [block('shot', plain(t), { fdx_type: 'Shot' })]) },
  { weight: 1, arbitrary: fdxTextArb.map((t) => [block('cast_list', plain(t), { fdx_type: 'Cast List' })]) },
);

const fdxTitlePageArb = fc.record(
  {
    title: capsLineArb,
    credit: fc.constant('Written by'),
    author: lineArb(proseAlphabet, "'-&<", 3),
    source: lineArb(proseAlphabet, ',', 4),
    draft_date: lineArb(proseAlphabet, '/', 3),
    contact: fc.array(lineArb(proseAlphabet, ',.', 4), { minLength: 1, maxLength: 3 }).map((l) => l.join('\n')),
  },
  { requiredKeys: ['title', 'credit', 'author'] },
);

/** Screenplays of the paragraph types Final Draft has, including ones we have no node for. */
export const fdxDocumentArb: fc.Arbitrary<ScreenplayDocument> = fc
  .tuple(fdxTitlePageArb, scenesBlocksArb(fdxElementArb).map((blocks) => blocks.filter((b) => !['note', 'section', 'synopsis'].includes(b.type))))
  .map(([titlePage, blocks]) => documentOf(titlePage as Record<string, string>, blocks));
