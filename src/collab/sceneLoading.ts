import * as Y from 'yjs';
import { CheckedLogs } from '../log/checkedLogs.ts';
import { allSound, applyAll, hasMissingDependencies, replayUpdates, type ReplayResult } from '../log/replay.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { SceneLoadError } from './errors.ts';

export interface SceneLoaderConfiguration {
  log: SceneLog;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Replays a scene's log into the document a connection is about to be served. Loading never
 * blanks a scene: a row that cannot be decoded is quarantined and the rest loads; a database error
 * refuses the connection (`SceneLoadError`) instead of serving an empty document.
 */
export class SceneLoader {
  private readonly configuration: SceneLoaderConfiguration;

  /** What earlier loads checked, so reopening a scene checks only what was appended since. */
  private readonly checked = new CheckedLogs();

  constructor(configuration: SceneLoaderConfiguration) {
    this.configuration = { ...configuration };
  }

  /**
   * When every stored update passes the guards' check (the usual case) they are applied straight to
   * `document`, in log order; otherwise the rows are replayed in a scratch document that leaves the
   * bad ones out, and those are quarantined. Updates an earlier load checked, byte for byte the
   * same, are not checked again. `document` must not be served yet: nothing it applies reaches a
   * hook or a connection.
   */
  async load(document: Y.Doc, sceneId: string): Promise<void> {
    const { log, metrics } = this.configuration;
    const stopTimer = metrics.sceneLoadTime.startTimer();
    let updates: Uint8Array[];
    let packed: Uint8Array;
    let clocksUnrecordedAt: bigint | null;
    try {
      ({ updates, packed, clocksUnrecordedAt } = await log.loadUpdates(sceneId));
    } catch (error) {
      throw this.loadFailed(sceneId, error);
    }
    const alreadyChecked = this.checked.checkedPrefix(sceneId, packed);
    metrics.loadRowsChecked.inc(updates.length - alreadyChecked);
    this.checked.forget(sceneId);
    if (allSound(updates, alreadyChecked)) {
      try {
        applyAll(document, updates);
        this.checked.remember(sceneId, packed, updates.length);
      } catch (error) {
        // An update passed the check and still threw: this document holds part of it and is
        // never served (Hocuspocus discards a document whose load fails). The scratch replay
        // finds and quarantines the update, so the editor's retry loads the rest.
        await this.replayAndQuarantine(sceneId).catch(() => undefined);
        throw this.loadFailed(sceneId, error);
      }
      if (hasMissingDependencies(document)) this.reportGap(sceneId, updates.length);
      if (clocksUnrecordedAt !== null) await this.recordClocks(document, sceneId, clocksUnrecordedAt);
    } else {
      let result: ReplayResult;
      try {
        result = await this.replayAndQuarantine(sceneId);
      } catch (error) {
        throw this.loadFailed(sceneId, error);
      }
      if (result.hasGap) this.reportGap(sceneId, result.applied + result.undecodable.length);
      Y.applyUpdate(document, result.state);
    }
    stopTimer();
  }

  /**
   * Gives a log whose committed clocks are not recorded (older than them, or changed by a
   * quarantine) the clocks of what this load replayed, so its appends are checked for duplicates
   * from now on. Best effort: until it succeeds, appends to the scene are stored unchecked, as they
   * were before the clocks existed.
   */
  private async recordClocks(document: Y.Doc, sceneId: string, atSeq: bigint): Promise<void> {
    const clocks = Y.decodeStateVector(Y.encodeStateVector(document));
    await this.configuration.log.recordCommittedClocks(sceneId, clocks, atSeq).catch((error: unknown) => {
      this.configuration.logger.warn({ err: error, sceneId }, 'committed clocks not recorded; the next load tries again');
    });
  }

  /** Rebuilds the scene from its rows in a scratch document and moves the rows that fail to quarantine. */
  private async replayAndQuarantine(sceneId: string): Promise<ReplayResult> {
    const { log, metrics, logger } = this.configuration;
    const result = replayUpdates(await log.load(sceneId));
    for (const bad of result.undecodable) {
      metrics.quarantinedUpdates.inc();
      logger.warn(
        { sceneId, versionId: bad.versionId, seq: bad.seq.toString(), reason: bad.reason },
        'stored update failed to decode; moved to quarantined_updates, the rest of the scene loads',
      );
      await log.quarantine(sceneId, bad.versionId, bad.reason).catch((error: unknown) => {
        logger.error({ err: error, sceneId, versionId: bad.versionId }, 'quarantine failed; the row stays in the log');
      });
    }
    return result;
  }

  /** Never hand out an empty or partial document that later edits would build on: refuse the connection. */
  private loadFailed(sceneId: string, error: unknown): SceneLoadError {
    this.configuration.logger.error({ err: error, sceneId }, 'scene load failed; connection refused');
    return new SceneLoadError(sceneId, { cause: error });
  }

  private reportGap(sceneId: string, rows: number): void {
    this.configuration.metrics.loadGaps.inc();
    this.configuration.logger.error(
      { sceneId, rows },
      'scene loaded with missing dependencies: the log has a gap; content that depends on the missing updates is not shown',
    );
  }
}
