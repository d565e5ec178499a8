import { AttractorDefinitionSchema, type AttractorDefinition } from './attractor.js';
import { applyCalibration, parseCalibration } from './calibration.js';
import builtinCalibration from './calibration/builtin.json' with { type: 'json' };
import { emojiCollapse } from './attractors/emoji-collapse.js';
import { farewellLoop } from './attractors/farewell-loop.js';
import { repetitionLoop } from './attractors/repetition-loop.js';
import { silence } from './attractors/silence.js';
import { spiritualBliss } from './attractors/spiritual-bliss.js';
import { weddingParty } from './attractors/wedding-party.js';

/** The hand-written definitions, before calibration: what `arena detect fit` fits on. */
export const UNCALIBRATED_ATTRACTORS: readonly AttractorDefinition[] = Object.freeze(
  [spiritualBliss, weddingParty, emojiCollapse, silence, repetitionLoop, farewellLoop].map((d) => AttractorDefinitionSchema.parse(d)),
);

/**
 * The attractor library that ships with the arena, in a fixed order (events list attractors in it), with the
 * calibration fitted on labelled real conversations (calibration/builtin.json) in place.
 */
export const BUILTIN_ATTRACTORS: readonly AttractorDefinition[] = Object.freeze(
  applyCalibration(UNCALIBRATED_ATTRACTORS, parseCalibration(builtinCalibration, 'calibration/builtin.json')),
);

export const BUILTIN_NAMES: readonly string[] = BUILTIN_ATTRACTORS.map((a) => a.name);

export function builtinAttractor(name: string): AttractorDefinition | undefined {
  return BUILTIN_ATTRACTORS.find((a) => a.name === name);
}
