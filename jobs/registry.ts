// Every job the command line can run. A new job (snapshot, compaction, retention, divergence)
// exports a `JobCommand` next to its one-pass function and is added here; `jobs/cli.ts` needs no
// change.
import type { AnyJobCommand } from './command.ts';
import { clearYjsCommand } from './clearYjs.ts';
import { compactionCommand } from './compaction.ts';
import { diagnoseCommand } from './diagnose.ts';
import { divergenceCommand } from './divergence.ts';
import { exportSceneCommand } from './exportScene.ts';
import { importSceneCommand } from './importScene.ts';
import { migrateRestToYjsCommand } from './migrateRestToYjs.ts';
import { readinessCommand } from './readiness.ts';
import { retentionCommand } from './retention.ts';
import { snapshotCommand } from './snapshot.ts';

export const JOB_COMMANDS: readonly AnyJobCommand[] = [
  readinessCommand,
  migrateRestToYjsCommand,
  diagnoseCommand,
  clearYjsCommand,
  exportSceneCommand,
  importSceneCommand,
  snapshotCommand,
  compactionCommand,
  retentionCommand,
  divergenceCommand,
];

export function findJobCommand(name: string): AnyJobCommand | undefined {
  return JOB_COMMANDS.find((command) => command.name === name);
}
