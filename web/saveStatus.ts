/**
 * What the saved/unsaved indicator shows, decided from the provider's state alone. The server
 * acknowledges an update only after it is committed to the database, so "Saved" here means "on
 * disk", not merely "sent".
 */

export type Connection = 'connecting' | 'connected' | 'disconnected';

export interface ProviderFacts {
  connection: Connection;
  /** The first sync with the server has completed since the last (re)connect. */
  synced: boolean;
  /** Changes sent or queued that the server has not acknowledged yet (the provider's `unsyncedChanges`). */
  unsynced: number;
  /** Authenticated with read-only access: nothing typed is sent. */
  readOnly: boolean;
  /** Why the server refused the connection or an update; null while nothing was refused. */
  refusal: string | null;
}

export type SaveState = 'connecting' | 'loading' | 'saving' | 'saved' | 'unsaved-offline' | 'offline' | 'read-only' | 'refused';

export interface SaveStatus {
  state: SaveState;
  label: string;
  /** True when closing the page now could lose typing. */
  atRisk: boolean;
}

export function saveStatus(facts: ProviderFacts): SaveStatus {
  // A refused update is never stored and would be refused again: this outranks everything else.
  if (facts.refusal !== null) return { state: 'refused', label: `Not saved: ${facts.refusal}`, atRisk: true };
  if (facts.connection !== 'connected') {
    if (facts.unsynced > 0) return { state: 'unsaved-offline', label: 'Unsaved changes, reconnecting…', atRisk: true };
    return facts.connection === 'connecting'
      ? { state: 'connecting', label: 'Connecting…', atRisk: false }
      : { state: 'offline', label: 'Offline', atRisk: false };
  }
  if (facts.readOnly) return { state: 'read-only', label: 'Read only', atRisk: false };
  // While the first sync runs the provider counts its own sync step as one unacknowledged change,
  // which also carries anything typed while offline: keep treating it as unsaved.
  if (!facts.synced) return { state: 'loading', label: 'Loading…', atRisk: facts.unsynced > 0 };
  if (facts.unsynced > 0) return { state: 'saving', label: 'Saving…', atRisk: true };
  return { state: 'saved', label: 'All changes saved', atRisk: false };
}
