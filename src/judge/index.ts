export * from './rubric.js';
export * from './prompt.js';
export * from './validate.js';
export * from './request.js';
export * from './judge-window.js';
export * from './judge-runs.js';
