import type { RestBlock } from '../screenplay/restBlocks.ts';

/**
 * The demo content a fresh development database starts with. It is REST content (the
 * `content_blocks` format) on purpose: opening a scene seeds its Yjs log from it, so the first
 * thing a newcomer sees exercises the seeding path too.
 */

export interface DemoUser {
  email: string;
  displayName: string;
  /** The colour of this user's caret and name label in the editor. */
  color: string;
  role: 'owner' | 'editor';
}

export const DEMO_USERS: readonly DemoUser[] = [
  { email: 'dana@writersroom.example', displayName: 'Dana', color: '#d9480f', role: 'owner' },
  { email: 'sam@writersroom.example', displayName: 'Sam', color: '#1971c2', role: 'editor' },
];

export const DEMO_SCRIPT_TITLE = 'The Last Acknowledgement';

export interface DemoScene {
  heading: string;
  blocks: RestBlock[];
}

export const DEMO_SCENES: readonly DemoScene[] = [
  {
    heading: 'INT. WRITERS ROOM - NIGHT',
    blocks: [
      { type: 'scene_heading', text: 'INT. WRITERS ROOM - NIGHT' },
      {
        type: 'action',
        text: 'Takeout boxes. A whiteboard crowded with index cards. DANA (40s) paces; SAM (30s) types without looking up.',
      },
      { type: 'character', text: 'DANA' },
      { type: 'dialogue', text: 'Tell me it saved.' },
      { type: 'character', text: 'SAM' },
      { type: 'parenthetical', text: '(not looking up)' },
      { type: 'dialogue', text: 'Every keystroke. On disk before it says so.', marks: [{ type: 'italic', from: 25, to: 42 }] },
      { type: 'action', text: 'The lights flicker. The laptop fan whines, then stops.' },
      { type: 'transition', text: 'CUT TO:' },
    ],
  },
  {
    heading: 'INT. SERVER ROOM - CONTINUOUS',
    blocks: [
      { type: 'scene_heading', text: 'INT. SERVER ROOM - CONTINUOUS' },
      { type: 'action', text: 'A single rack hums in the dark. One green light blinks, steady as a heartbeat.' },
      { type: 'character', text: 'SAM (V.O.)' },
      { type: 'dialogue', text: 'Kill the power if you like. It comes back with every word.' },
    ],
  },
  {
    heading: 'EXT. ROOFTOP - DAWN',
    blocks: [
      { type: 'scene_heading', text: 'EXT. ROOFTOP - DAWN' },
      { type: 'action', text: 'Dana and Sam share a thermos. The city wakes below them.' },
      { type: 'character', text: 'DANA' },
      { type: 'dialogue', text: 'Page one. Again.' },
      { type: 'transition', text: 'FADE OUT.' },
    ],
  },
];
