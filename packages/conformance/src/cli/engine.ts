// The engine entry points the CLI drives, gathered in one place.
export { runConformance, planProperties } from '../run/run-conformance.js';
export { runDifferential } from '../differential/run-differential.js';
export { runReplay, type ReplayResult } from '../replay/replay.js';
export { sweep } from '../run/sweep.js';
