import type { RunHandle } from '../../src/arena/run-handle.js';
import type { ArenaEvent } from '../../src/runlog/events.js';

/** The first event of a run (live or replayed to the subscriber) that matches. */
export function untilEvent(handle: RunHandle, match: (e: ArenaEvent) => boolean): Promise<ArenaEvent> {
  return new Promise((resolve) => {
    const stop = handle.subscribe((e) => {
      if (match(e)) {
        stop();
        resolve(e);
      }
    });
  });
}
