/**
 * Background opens (RunLogWriter.openInBackground) go two at a time. Each costs the kernel about 0.1 ms (a
 * folder, a file). When hundreds of runs started at once, they all woke thread-pool threads together, which
 * took the cores from the main thread while it started the runs. One at a time was as good for that, but
 * slowed batches of short runs, which wait for their file before they can end (a round trip per step while
 * the main thread is busy): 15,000 instant turns/s against 21,000 with two.
 */
const openQueue: ((next: () => void) => void)[] = [];
let opensInFlight = 0;
const OPENS_AT_ONCE = 2;

/** Run `job` when fewer than two are under way; it calls `next` when done (more than once is harmless). */
export function enqueueOpen(job: (next: () => void) => void): void {
  openQueue.push(job);
  pump();
}

function pump(): void {
  while (opensInFlight < OPENS_AT_ONCE && openQueue.length > 0) {
    const job = openQueue.shift()!;
    opensInFlight++;
    let called = false;
    job(() => {
      if (called) return;
      called = true;
      opensInFlight--;
      pump();
    });
  }
}
