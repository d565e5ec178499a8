import { readFileSync } from 'node:fs';
import { LineScanner } from './line-scanner.js';

/** An attractor a run entered, and the turn it first did. */
export interface EnteredAttractor {
  name: string;
  onsetTurn: number;
}

/**
 * The attractors a run's log says it entered (its `attractor.entered` events), each with the first turn it
 * entered, ordered by that turn (then name). undefined when the log cannot be read here (e.g. a run a remote
 * worker holds): not the same as "entered none". Every other line is passed over unparsed.
 */
export function enteredAttractors(eventsFile: string): EnteredAttractor[] | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(eventsFile);
  } catch {
    return undefined;
  }
  const first = new Map<string, number>();
  new LineScanner({ skip: (type) => type !== 'attractor.entered', check: false }).scanAll(bytes, (e) => {
    if (e.type !== 'attractor.entered') return;
    const prev = first.get(e.attractor);
    if (prev === undefined || e.turn < prev) first.set(e.attractor, e.turn);
  });
  return [...first]
    .map(([name, onsetTurn]) => ({ name, onsetTurn }))
    .sort((a, b) => a.onsetTurn - b.onsetTurn || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
