import { DOCKERD } from './scenarios/engines.js';
import { describePlugs } from './scenarios/plugs.js';

// The VIF plugin (veth) and the volume connector (file) on dockerd (test/podman/plugs.test.ts runs the same on podman).
describePlugs(DOCKERD);
