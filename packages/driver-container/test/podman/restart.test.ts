import { PODMAN } from '../scenarios/engines.js';
import { describeRestoreAfterRestart } from '../scenarios/restore-state.js';

// Restarts podman for real (scripts/backends/podman.sh restart: its containers are stopped, as by a host restart).
describeRestoreAfterRestart(PODMAN);
