import type { SaveState, SaveStatus } from './saveStatus.ts';

/**
 * The page's indicator over every loaded scene of the continuous script: the scene furthest from
 * saved speaks for the page, so "All changes saved" shows only when every loaded scene is saved,
 * and the page is at risk (beforeunload warns) when any scene is.
 */
const FURTHEST_FIRST: readonly SaveState[] = ['refused', 'unsaved-offline', 'saving', 'loading', 'connecting', 'offline', 'read-only', 'saved'];

export const NO_SCENE_OPEN: SaveStatus = { state: 'offline', label: 'No scene open', atRisk: false };

export function scriptSaveStatus(statuses: readonly SaveStatus[]): SaveStatus {
  if (statuses.length === 0) return NO_SCENE_OPEN;
  const rank = (status: SaveStatus) => FURTHEST_FIRST.indexOf(status.state);
  const furthest = statuses.reduce((worst, status) => (rank(status) < rank(worst) ? status : worst));
  return { ...furthest, atRisk: statuses.some((status) => status.atRisk) };
}
