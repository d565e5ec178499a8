import type { z } from 'zod';
import type { CycleGeneratorSchema } from './spec.js';
import { lastFromOthers, type TextGenerator } from './_generator.js';
import { pick } from '../../seeded-random.js';

/** Fill {turn}, {name}, {other} and {last} in a template. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Templates taken in turn (or drawn with the seed), with placeholders filled from the conversation. */
export function cycleGenerator(spec: z.infer<typeof CycleGeneratorSchema>): TextGenerator {
  return ({ ownIndex, rng, transcript, self, participants, turn }) => {
    const template = spec.order === 'cycle' ? spec.templates[ownIndex % spec.templates.length]! : pick(rng, spec.templates);
    const last = lastFromOthers(transcript, self.id);
    const other = participants.find((p) => p.id !== self.id);
    const text = fillTemplate(template, {
      turn: String(turn),
      name: self.name,
      other: last?.speaker ?? other?.name ?? '',
      last: last?.text ?? '',
    });
    return { text, reason: 'stop' };
  };
}
