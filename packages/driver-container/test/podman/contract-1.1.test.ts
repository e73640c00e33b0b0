import { describeChangedCells } from '../scenarios/changed-cells.js';
import { PODMAN } from '../scenarios/engines.js';
import { describeListSnapshots } from '../scenarios/list-snapshots.js';
import { describeOutOfBand } from '../scenarios/out-of-band.js';
import { describeRestoreState } from '../scenarios/restore-state.js';

// What contract 1.1 asks of the driver, on podman 4.3's service (the same scenarios as on dockerd).
describeChangedCells(PODMAN);
describeOutOfBand(PODMAN);
describeListSnapshots(PODMAN);
describeRestoreState(PODMAN);
