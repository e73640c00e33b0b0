import { DOCKERD } from './scenarios/engines.js';
import { describeRestoreAfterRestart } from './scenarios/restore-state.js';

// Restarts dockerd for real (scripts/backends/docker.sh restart); test files run one at a time (vitest.config.ts).
describeRestoreAfterRestart(DOCKERD);
