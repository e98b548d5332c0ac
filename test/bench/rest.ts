import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { SnapshotService } from '../../src/restCopy/snapshots.ts';
import { percentiles, type Percentiles } from './scenarios.ts';
import type { Target } from './targets.ts';

export interface RestFigures {
  /** `GET /api/scripts/:id/scenes` while no scene has a snapshot: every scene derived from its log. */
  listWithoutSnapshots: Percentiles;
  /** Generating one scene's snapshot (derive, convert, checksum, guarded write). */
  snapshotPerScene: Percentiles;
  /** All of the script's snapshots, one after another. */
  snapshotAllSeconds: number;
  /** `GET /api/scripts/:id/scenes` once every snapshot is current. */
  listWithSnapshots: Percentiles;
}

async function timeList(target: Target, scriptId: string, token: string, repeats: number): Promise<Percentiles> {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    const res = await fetch(`${target.httpUrl}/api/scripts/${scriptId}/scenes`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET scenes answered ${res.status}: ${await res.text()}`);
    await res.json();
    samples.push(performance.now() - started);
  }
  return percentiles(samples);
}

/** The REST side for a long script: listing its scenes before and after snapshots, and the snapshots. */
export async function restScenario(
  target: Target,
  options: { prisma: PrismaClient; sql: SqlExecutor; scriptId: string; sceneIds: string[]; token: string; repeats: number },
): Promise<RestFigures> {
  const listWithoutSnapshots = await timeList(target, options.scriptId, options.token, options.repeats);
  const service = new SnapshotService({
    prisma: options.prisma,
    sceneLog: new SceneLog(options.sql),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger(),
    intervalMs: 300_000,
  });
  const perScene: number[] = [];
  const started = performance.now();
  for (const sceneId of options.sceneIds) {
    const before = performance.now();
    await service.snapshotScene(sceneId);
    perScene.push(performance.now() - before);
  }
  const snapshotAllSeconds = (performance.now() - started) / 1000;
  const listWithSnapshots = await timeList(target, options.scriptId, options.token, options.repeats);
  return { listWithoutSnapshots, snapshotPerScene: percentiles(perScene), snapshotAllSeconds, listWithSnapshots };
}
