export * from './labels.js';
export * from './match.js';
export * from './detect.js';
export * from './judge-reading.js';
export * from './outcome.js';
export * from './metrics.js';
export * from './evaluate.js';
export * from './format.js';
