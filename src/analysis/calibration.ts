import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { CalibratedSchema, type AttractorDefinition } from './attractor.js';

/**
 * A calibration file: per attractor, the fitted turn model and the thresholds chosen with it. The arena
 * ships one (calibration/builtin.json, fitted on labelled real conversations); `arena detect fit` writes
 * others from a researcher's own labels, and `detectors: [all, my-detectors.json]` (or `--detectors` on
 * analyze and eval) puts them in place of the built-in ones.
 */
export const CalibrationSchema = z.strictObject({
  version: z.literal(1),
  description: z.string().optional(),
  /** What the calibration was fitted on, and how well it did there (free-form, for people). */
  fittedOn: z.record(z.string(), z.unknown()).optional(),
  attractors: z.record(z.string(), CalibratedSchema),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

/** The definitions with each calibrated attractor's model and thresholds put in place. */
export function applyCalibration(defs: readonly AttractorDefinition[], calibration: Calibration): AttractorDefinition[] {
  return defs.map((d) => {
    const c = calibration.attractors[d.name];
    return c ? { ...d, calibrated: c } : d;
  });
}

export function parseCalibration(raw: unknown, file: string): Calibration {
  const parsed = CalibrationSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  throw new InputError(`${file}: ${path}: ${issue.message} (not a detector calibration; \`arena detect fit\` writes one)`);
}

export async function loadCalibrationFile(file: string): Promise<Calibration> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such calibration file' : `cannot read (${code ?? String(err)})`}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return parseCalibration(raw, file);
}
