import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The collector, without starting the process with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Collects until nothing more goes. A WeakRef's target stays alive until the job that dereffed it
 * ends, and finalizers release theirs a round later, so each round runs in a later macrotask.
 */
export async function collectGarbage(): Promise<void> {
  for (let round = 0; round < 4; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}
