import { PODMAN } from '../scenarios/engines.js';
import { describePlugs } from '../scenarios/plugs.js';

// The VIF plugin (veth) and the volume connector (file) on podman (test/plugs.test.ts runs the same on dockerd).
describePlugs(PODMAN);
