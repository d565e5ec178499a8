import { z } from 'zod';

/**
 * A calibrated turn score: a logistic model over named, interpretable features of a turn and of the turns
 * around it (see feature-row.ts for the names). Features are standardised with the `mean` and `scale` the
 * model was fitted with, so each weight reads as "log-odds per standard deviation".
 */
export const DetectorModelSchema = z
  .strictObject({
    features: z.array(z.string().min(1)).min(1),
    mean: z.array(z.number()),
    scale: z.array(z.number().positive()),
    weights: z.array(z.number()),
    bias: z.number(),
  })
  .refine((m) => m.mean.length === m.features.length && m.scale.length === m.features.length && m.weights.length === m.features.length, {
    message: 'features, mean, scale and weights must have the same length',
  });
export type DetectorModel = z.infer<typeof DetectorModelSchema>;

/** A turn's features by name; a name the row lacks counts as 0. */
export type FeatureRow = Readonly<Record<string, number>>;

/** A type, not an interface, so it fits the run log's Driver (whose extra keys are kept). */
export type Contribution = {
  feature: string;
  value: number;
  /** weight × standardised value: how far this feature moved the log-odds. */
  contribution: number;
};

/** The probability the model gives a turn. */
export function predict(model: DetectorModel, row: FeatureRow): number {
  let z = model.bias;
  for (let i = 0; i < model.features.length; i++) {
    z += (model.weights[i]! * ((row[model.features[i]!] ?? 0) - model.mean[i]!)) / model.scale[i]!;
  }
  return sigmoid(z);
}

/** `predict` on a compiled row: `at[i]` is the position of the model's i-th feature in `v`. */
export function predictAt(model: DetectorModel, at: Int32Array, v: Float64Array): number {
  let z = model.bias;
  for (let i = 0; i < at.length; i++) z += (model.weights[i]! * (v[at[i]!]! - model.mean[i]!)) / model.scale[i]!;
  return sigmoid(z);
}

/** The features that pushed a turn's score up the most, strongest first: the evidence behind a decision. */
export function drivers(model: DetectorModel, row: FeatureRow, k: number): Contribution[] {
  const out: Contribution[] = [];
  for (let i = 0; i < model.features.length; i++) {
    const value = row[model.features[i]!] ?? 0;
    out.push({ feature: model.features[i]!, value: round4(value), contribution: round4((model.weights[i]! * (value - model.mean[i]!)) / model.scale[i]!) });
  }
  return out
    .filter((c) => c.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution || (a.feature < b.feature ? -1 : 1))
    .slice(0, k);
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
