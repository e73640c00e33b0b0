import { DOCKERD } from './scenarios/engines.js';
import { describeNetworks } from './scenarios/networks.js';

// Shared networks and failed spawns on dockerd (test/podman/networks.test.ts runs the same on podman).
describeNetworks(DOCKERD);
