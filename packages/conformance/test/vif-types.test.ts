import { describe, expect, it } from 'vitest';
import { DriverError, type InstanceSpec } from '@nova-common/core';
import { runConformance } from '../src/index.js';
import { undeclaredVifType } from '../src/commands/intents.js';
import { mutate } from './mutants/_mutant.js';

// R-SPAWN-VIF-TYPE: a driver that declares the VIF types it wires, and refuses the others as the
// rule says, passes the default run (the planted spawns of an undeclared type included); the
// mutant that accepts them anyway is caught (test/mutants/spawn-undeclared-vif-type.ts).
describe('declared VIF types', () => {
  it('a driver wiring bridge VIFs only, refusing the others naming the type, passes every property', async () => {
    const result = await runConformance({
      name: 'bridge-only',
      seed: 5,
      driver: () =>
        mutate({}, (inner) => ({
          getCapabilities: async () => ({ ...(await inner.getCapabilities()), vifTypes: ['bridge'] }),
          spawn: async (spec: InstanceSpec, options?: unknown) => {
            const i = spec.networkInfo.findIndex((v) => v.type !== 'bridge');
            if (i >= 0) throw new DriverError('INVALID_INPUT', { op: 'spawn', target: spec.uuid, issues: [{ path: ['spec', 'networkInfo', i, 'type'], message: 'bridge VIFs only' }] });
            return inner.spawn(spec, options as never);
          },
        })),
    });
    const failed = result.properties.filter((p) => p.status === 'failed').map((p) => `${p.id}: ${p.counterexample?.message}`);
    expect(failed).toEqual([]);
    expect(result.properties.find((p) => p.id === 'P-SPAWN-ATOMIC')?.status).toBe('passed');
  });

  it('names the first type a declaration leaves out, and none when every type is declared or none is', () => {
    const caps = (vifTypes?: string[]) => ({ vifTypes }) as never;
    expect(undeclaredVifType(caps(['bridge']))).toBe('ovs');
    expect(undeclaredVifType(caps(['bridge', 'ovs']))).toBe('tap');
    expect(undeclaredVifType(caps(undefined))).toBeUndefined();
    expect(undeclaredVifType(caps(['bridge', 'ovs', 'tap', 'vhostuser', 'hw_veb', 'hostdev_physical', 'macvtap', 'ethernet', 'other']))).toBeUndefined();
  });
});
