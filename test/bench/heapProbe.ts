/**
 * Preloaded (`node --import`) into every server the benchmark starts, so all of them are measured
 * the same way: on the IPC message `heap` the process collects garbage fully and answers with what
 * is still reachable. Resident memory cannot give that figure: it only grows back to its
 * high-water mark and hides what a scene costs once the collector has run.
 */
import { collectGarbage } from '../helpers/gc.ts';

export interface HeapReading {
  type: 'heap';
  /** JavaScript objects still reachable after a full collection. */
  heapUsed: number;
  /** Memory outside the JavaScript heap held by reachable objects (Buffers, ArrayBuffers). */
  external: number;
}

if (process.send) {
  process.on('message', (message: unknown) => {
    if (message !== 'heap') return;
    void collectGarbage().then(() => {
      const { heapUsed, external } = process.memoryUsage();
      process.send?.({ type: 'heap', heapUsed, external } satisfies HeapReading);
    });
  });
  // The IPC channel must not keep a server alive that was asked to stop.
  process.channel?.unref();
}
