import { describeChangedCells } from './scenarios/changed-cells.js';
import { DOCKERD } from './scenarios/engines.js';
import { describeListSnapshots } from './scenarios/list-snapshots.js';
import { describeOutOfBand } from './scenarios/out-of-band.js';
import { describeRestoreState } from './scenarios/restore-state.js';

// What contract 1.1 asks of the driver, on dockerd (test/podman/contract-1.1.test.ts runs the same on podman).
describeChangedCells(DOCKERD);
describeOutOfBand(DOCKERD);
describeListSnapshots(DOCKERD);
describeRestoreState(DOCKERD);
