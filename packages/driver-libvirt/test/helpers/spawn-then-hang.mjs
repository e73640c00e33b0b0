// A driver process that starts a spawn and stops half way (its domain runs, transient), says
// so on stdout, and waits to be killed: how a compute service killed mid-spawn leaves a host.
// Runs the built package (dist/), as a deployed driver would.
import { guard } from '@nova-common/core';
import { createLibvirtDriver } from '../../dist/index.js';

const [socketPath, uri, uuid, runId] = process.argv.slice(2);
const driver = guard(
  createLibvirtDriver(
    { uri, socketPath },
    {
      midSpawn: () => {
        process.stdout.write('mid-spawn\n');
        return new Promise(() => {});
      },
    },
  ),
);
await driver.initHost();
await driver.spawn({
  uuid,
  name: 'half-made',
  flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, memoryMb: 256, rootGb: 1 },
  image: { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' },
  metadata: { 'nova-conformance:run-id': runId },
});
