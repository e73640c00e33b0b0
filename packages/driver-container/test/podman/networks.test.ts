import { PODMAN } from '../scenarios/engines.js';
import { describeNetworks } from '../scenarios/networks.js';

// Shared networks and failed spawns on podman's service (the same scenarios as on dockerd).
describeNetworks(PODMAN);
