import { describe, expect, it } from 'vitest';
import { ApiError, fileNameOf, sceneTitle, type SceneSummary } from '../../web/api.ts';
import { importRefusal } from '../../web/fileMenu.ts';
import { importFormatOf } from '../../web/interchangeApi.ts';
import { dropPosition, dropsBefore, movedTo, positionAfter, withHeading } from '../../web/sceneOrder.ts';
import { canWrite } from '../../web/scriptsApi.ts';

/** The scene list's and the file menu's decisions, without a browser (web/sceneOrder.ts, api.ts, fileMenu.ts). */

describe('the list after a move, as the page shows it before reading it again', () => {
  const scenes = ['a', 'b', 'c', 'd'].map((sceneUUID) => ({ sceneUUID }));
  const order = (list: Array<{ sceneUUID: string }>) => list.map((scene) => scene.sceneUUID).join('');

  it('puts the scene at its new position and closes up behind it', () => {
    expect(order(movedTo(scenes, 'd', 2))).toBe('abdc');
    expect(order(movedTo(scenes, 'a', 3))).toBe('bcda');
    expect(order(movedTo(movedTo(scenes, 'd', 2), 'd', 1))).toBe('adbc');
  });

  it('clamps the position to the list, and leaves a list without the scene as it is', () => {
    expect(order(movedTo(scenes, 'b', 9))).toBe('acdb');
    expect(order(movedTo(scenes, 'b', -1))).toBe('bacd');
    expect(order(movedTo(scenes, 'x', 0))).toBe('abcd');
  });
});

describe('where a dragged scene lands', () => {
  it('takes the final position of a drop before the scene at `before` (count: the end)', () => {
    // Five scenes; the first dropped before the third lands second (the others close up).
    expect(dropPosition(0, 2, 5)).toBe(1);
    expect(dropPosition(0, 5, 5)).toBe(4);
    expect(dropPosition(4, 0, 5)).toBe(0);
    expect(dropPosition(3, 1, 5)).toBe(1);
  });

  it('is no move when the scene is dropped where it is (before itself or before the next one)', () => {
    for (let from = 0; from < 5; from++) {
      expect(dropPosition(from, from, 5)).toBeNull();
      expect(dropPosition(from, from + 1, 5)).toBeNull();
    }
  });

  it('is no move for positions outside the list', () => {
    expect(dropPosition(-1, 2, 5)).toBeNull();
    expect(dropPosition(5, 2, 5)).toBeNull();
    expect(dropPosition(1, 6, 5)).toBeNull();
  });

  it('every move of every scene of a list lands inside it', () => {
    const count = 7;
    for (let from = 0; from < count; from++) {
      for (let before = 0; before <= count; before++) {
        const position = dropPosition(from, before, count);
        if (position === null) continue;
        expect(position).toBeGreaterThanOrEqual(0);
        expect(position).toBeLessThan(count);
        // The order after the move puts the scene just before the one it was dropped before.
        const order = Array.from({ length: count }, (_, index) => index);
        const [moved] = order.splice(from, 1);
        order.splice(position, 0, moved!);
        expect(order[position + 1] ?? count).toBe(before === count ? count : before);
      }
    }
  });

  it('drops before an item on its upper half, after it on its lower half', () => {
    expect(dropsBefore(0, 30)).toBe(true);
    expect(dropsBefore(14.9, 30)).toBe(true);
    expect(dropsBefore(15, 30)).toBe(false);
    expect(dropsBefore(29, 30)).toBe(false);
  });

  it('adds "after the current one" right behind it, or at the end', () => {
    expect(positionAfter(0, 3)).toBe(1);
    expect(positionAfter(1, 3)).toBe(2);
    expect(positionAfter(2, 3)).toBeUndefined();
    expect(positionAfter(null, 3)).toBeUndefined();
  });
});

describe('a renamed heading in the scene', () => {
  it('replaces the text of the first scene heading and drops its marks', () => {
    const blocks = [
      { type: 'action', text: 'Before.' },
      { type: 'scene_heading', text: 'INT. OLD - DAY', marks: [{ type: 'bold', from: 0, to: 3 }] },
      { type: 'scene_heading', text: 'EXT. LATER - NIGHT' },
    ];
    expect(withHeading(blocks, 'INT. NEW - NIGHT')).toEqual([
      { type: 'action', text: 'Before.' },
      { type: 'scene_heading', text: 'INT. NEW - NIGHT' },
      { type: 'scene_heading', text: 'EXT. LATER - NIGHT' },
    ]);
    expect(blocks[1]!.text).toBe('INT. OLD - DAY');
  });

  it('starts a scene without a heading with one', () => {
    expect(withHeading([], 'INT. NEW - NIGHT')).toEqual([{ type: 'scene_heading', text: 'INT. NEW - NIGHT' }]);
    expect(withHeading([{ type: 'action', text: 'A.' }], 'X')).toEqual([{ type: 'scene_heading', text: 'X' }, { type: 'action', text: 'A.' }]);
  });

  it('titles a scene by its typed heading, else its slugline, else "Untitled scene" (never its number)', () => {
    const scene = (blocks: SceneSummary['content']['blocks'], slugline: string | null): SceneSummary => ({ sceneUUID: 'a', scriptUUID: 'b', slugline, sceneIndex: 4, content: { blocks } });
    expect(sceneTitle(scene([{ type: 'scene_heading', text: ' INT. TYPED ' }], 'INT. STORED'))).toBe('INT. TYPED');
    expect(sceneTitle(scene([{ type: 'scene_heading', text: '' }], 'INT. STORED'))).toBe('INT. STORED');
    expect(sceneTitle(scene([], null))).toBe('Untitled scene');
  });
});

describe('roles, file names and refusals', () => {
  it('lets owners, editors and administrators change a script, not viewers', () => {
    expect(['owner', 'editor', 'admin', 'viewer'].map((role) => canWrite(role as 'owner'))).toEqual([true, true, true, false]);
  });

  it('reads the file name of a Content-Disposition header as the export route writes it', () => {
    expect(fileNameOf(`attachment; filename="Night Shift.fountain"; filename*=UTF-8''Night%20Shift.fountain`)).toBe('Night Shift.fountain');
    expect(fileNameOf(`attachment; filename="Caf_ Noir.pdf"; filename*=UTF-8''Caf%C3%A9%20Noir.pdf`)).toBe('Café Noir.pdf');
    expect(fileNameOf('attachment; filename="plain.fdx"')).toBe('plain.fdx');
    expect(fileNameOf(`attachment; filename="fallback.fdx"; filename*=UTF-8''%E0%A4`)).toBe('fallback.fdx');
    expect(fileNameOf(null)).toBeNull();
    expect(fileNameOf('inline')).toBeNull();
  });

  it('names the import format from the file name, or leaves it to the server', () => {
    expect(importFormatOf('Pilot.FDX')).toBe('fdx');
    expect(importFormatOf('pilot.xml')).toBe('fdx');
    expect(importFormatOf('pilot.fountain')).toBe('fountain');
    expect(importFormatOf('pilot.txt')).toBe('fountain');
    expect(importFormatOf('pilot')).toBeNull();
    expect(importFormatOf('pilot.docx')).toBeNull();
  });

  it('says where an import broke, with the code', () => {
    const malformed = new ApiError(400, 'The XML is malformed: Closing tag does not match (line 5, column 3)', 'MALFORMED_SCREENPLAY', {
      format: 'fdx',
      location: { line: 5, column: 3 },
    });
    expect(importRefusal('broken.fdx', malformed)).toBe('broken.fdx could not be imported: The XML is malformed: Closing tag does not match (line 5, column 3) (MALFORMED_SCREENPLAY)');
    const bare = new ApiError(400, 'Not a screenplay', 'NOT_A_SCREENPLAY', { location: { line: 1 } });
    expect(importRefusal('notes.fdx', bare)).toBe('notes.fdx could not be imported: Not a screenplay at line 1 (NOT_A_SCREENPLAY)');
    expect(importRefusal('huge.fountain', new ApiError(413, 'The file is larger than 10485760 bytes', 'PAYLOAD_TOO_LARGE'))).toBe(
      'huge.fountain is too large to import: The file is larger than 10485760 bytes',
    );
    expect(importRefusal('a.fountain', new Error('Failed to fetch'))).toBe('Importing a.fountain failed: Failed to fetch');
  });
});
