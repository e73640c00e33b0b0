import fc from 'fast-check';
import { isDriverError, type VifInput } from '@nova-common/core';
import { VIF_PLUG_SEMANTICS, type GuardedVifPlugin, type PlugInstance, type VifPlugState } from '@nova-common/core/plugs';
import { checkModel, diff, expect, expectError, runPlugProperties, sameSet, type PlugRunResult } from './result.js';

/** What the plug suite needs to test a VIF plugin on a host: the plugin and an independent look at the host. */
export interface VifPluginFixtures {
  plugin: GuardedVifPlugin;
  /** The i-th test port (0..7), on a bridge the fixtures chose (the plugin may create it). Ids and MACs differ per i. */
  vif(i: number): VifInput;
  /** Every network device on the host where the plugin plugs (its own look, e.g. `ip -j link` in the test namespace). */
  devices(): Promise<string[]>;
  /** Create a device the plugin did not create (an operator's), of a kind that is not a bridge. */
  makeForeignDevice(name: string): Promise<void>;
  removeForeignDevice(name: string): Promise<void>;
}

export interface PlugSuiteOptions {
  /** Runs of the model-based property (default 8). */
  runs?: number;
  seed?: number;
}

const INSTANCES: PlugInstance[] = [
  { uuid: '6f1c1f5e-9d1a-4c7e-8a55-0c2a3c9e0001', name: 'plug-a' },
  { uuid: '6f1c1f5e-9d1a-4c7e-8a55-0c2a3c9e0002', name: 'plug-b' },
];

/**
 * The VIF plug properties: the plug semantics table cell by cell (idempotent plug and unplug,
 * a port bound to another instance), nothing left behind after unplug or a failed plug, a
 * foreign device never touched, bad names refused naming the field, concurrent plugs of one
 * instance's ports, and a model-based property over random plug/unplug sequences.
 */
export async function runVifPluginConformance(fx: VifPluginFixtures, options: PlugSuiteOptions = {}): Promise<PlugRunResult> {
  const { plugin } = fx;
  const [a, b] = INSTANCES as [PlugInstance, PlugInstance];
  const baseline = await fx.devices();
  const unplugAll = async (): Promise<void> => {
    for (let i = 0; i < 8; i++) for (const inst of INSTANCES) await plugin.unplug(fx.vif(i), inst).catch(() => undefined);
  };
  const clean = async (what: string): Promise<void> => {
    const now = await fx.devices();
    expect(sameSet(baseline, now), `${what}: the host's devices changed: ${diff(baseline, now)}`);
    const plugged = await plugin.listPlugged();
    expect(plugged.length === 0, `${what}: listPlugged still answers ${plugged.map((p) => p.device).join(', ')}`);
  };

  return runPlugProperties(plugin.name, 'vif', plugin.vifTypes, [
    {
      id: 'PLUG-VIF-IDEMPOTENT',
      title: 'plug of a plugged port answers the same device; unplug of an unplugged port succeeds',
      rule: 'plug/PLUGGED, unplug/UNPLUGGED',
      async check() {
        const first = await plugin.plug(fx.vif(0), a);
        const again = await plugin.plug(fx.vif(0), a);
        expect(first.device === again.device && first.bridge === again.bridge, `second plug answered ${again.device} on ${again.bridge}, first ${first.device} on ${first.bridge}`);
        const listed = (await plugin.listPlugged()).filter((p) => p.vifId === first.vifId);
        expect(listed.length === 1 && listed[0]!.device === first.device, `listPlugged answers ${listed.length} devices for the port`);
        expect(listed[0]!.address === first.address.toLowerCase() || listed[0]!.address === first.address, `listPlugged answers MAC ${listed[0]!.address}, plug answered ${first.address}`);
        const devices = await fx.devices();
        expect(devices.includes(first.device), `the host has no device ${first.device} after plug`);
        await plugin.unplug(fx.vif(0), a);
        await plugin.unplug(fx.vif(0), a);
        await clean('after plug, plug, unplug, unplug');
      },
    },
    {
      id: 'PLUG-VIF-OTHER-INSTANCE',
      title: 'a port plugged for one instance is refused to another (CONFLICT), whose unplug leaves it alone',
      rule: 'plug/PLUGGED_FOR_OTHER_INSTANCE, unplug/PLUGGED_FOR_OTHER_INSTANCE',
      async check() {
        const mine = await plugin.plug(fx.vif(1), a);
        await expectError('plug of a port plugged for another instance', () => plugin.plug(fx.vif(1), b), VIF_PLUG_SEMANTICS.plug.PLUGGED_FOR_OTHER_INSTANCE.outcome);
        await plugin.unplug(fx.vif(1), b);
        expect((await fx.devices()).includes(mine.device), `another instance's unplug removed ${mine.device}`);
        await plugin.unplug(fx.vif(1), a);
        await clean('after the other instance was refused');
      },
    },
    {
      id: 'PLUG-VIF-FOREIGN',
      title: 'a port naming a device the plugin did not create is refused naming vif.devname, and the device is untouched',
      rule: 'R-PLUG-FOREIGN',
      async check() {
        const name = 'ncforeign0';
        await fx.makeForeignDevice(name);
        try {
          const before = await fx.devices();
          await expectError('plug onto a foreign device', () => plugin.plug({ ...fx.vif(2), devname: name }, a), 'INVALID_INPUT', ['vif', 'devname']);
          await plugin.unplug({ ...fx.vif(2), devname: name }, a);
          const after = await fx.devices();
          expect(sameSet(before, after), `refused plug changed the host: ${diff(before, after)}`);
        } finally {
          await fx.removeForeignDevice(name);
        }
        await clean('after the foreign device was refused');
      },
    },
    {
      id: 'PLUG-VIF-ATOMIC',
      title: 'a plug that fails (bridge name of a device that is not a bridge, cancelled call) leaves nothing behind',
      rule: 'R-PLUG-ATOMIC',
      async check() {
        const name = 'ncnotabr0';
        await fx.makeForeignDevice(name);
        try {
          const vif = fx.vif(3);
          const onNonBridge = { ...vif, network: { ...vif.network, bridge: name } };
          await expectError('plug onto a device that is not a bridge', () => plugin.plug(onNonBridge, a), 'INVALID_INPUT', ['vif', 'network', 'bridge']);
        } finally {
          await fx.removeForeignDevice(name);
        }
        const aborted = new AbortController();
        aborted.abort();
        await expectError('plug with a cancelled signal', () => plugin.plug(fx.vif(3), a, { signal: aborted.signal }), 'CANCELLED');
        await clean('after failed plugs');
      },
    },
    {
      id: 'PLUG-VIF-BAD-INPUT',
      title: 'names that could reach a shell or an option, unknown VIF types and bad uuids are refused naming the field',
      rule: 'R-PLUG-INPUT',
      async check() {
        const vif = fx.vif(4);
        await expectError('bridge name with shell metacharacters', () => plugin.plug({ ...vif, network: { ...vif.network, bridge: 'br;rm -rf /' } }, a), 'INVALID_INPUT', ['vif', 'network', 'bridge']);
        await expectError('devname starting with a dash', () => plugin.plug({ ...vif, devname: '-tap0' }, a), 'INVALID_INPUT', ['vif', 'devname']);
        await expectError('a VIF type the plugin does not wire', () => plugin.plug({ ...vif, type: 'vhostuser' }, a), 'INVALID_INPUT', ['vif', 'type']);
        await expectError('an instance uuid that is not one', () => plugin.plug(vif, { uuid: '../../etc' }), 'INVALID_INPUT', ['instance', 'uuid']);
        await clean('after refused inputs');
      },
    },
    {
      id: 'PLUG-VIF-CONCURRENT',
      title: 'concurrent plugs of one instance\'s ports all succeed on distinct devices; concurrent unplugs leave nothing',
      rule: 'R-PLUG-CONCURRENT',
      async check() {
        const ports = [0, 1, 2, 3].map((i) => fx.vif(i));
        const plugged = await Promise.all(ports.map((p) => plugin.plug(p, a)));
        expect(new Set(plugged.map((p) => p.device)).size === ports.length, `concurrent plugs answered devices ${plugged.map((p) => p.device).join(', ')}`);
        const listed = await plugin.listPlugged();
        expect(listed.length === ports.length, `listPlugged answers ${listed.length} ports after ${ports.length} concurrent plugs`);
        await Promise.all(ports.map((p) => plugin.unplug(p, a)));
        await clean('after concurrent unplugs');
      },
    },
    {
      id: 'PLUG-VIF-MODEL',
      title: 'random plug/unplug sequences over three ports and two instances follow the plug semantics table',
      rule: 'plug/*, unplug/*',
      async check() {
        await modelProperty(fx, options);
        await clean('after the random sequences');
      },
    },
  ], unplugAll);
}

type Step = { op: 'plug' | 'unplug'; port: number; instance: number };

async function modelProperty(fx: VifPluginFixtures, options: PlugSuiteOptions): Promise<void> {
  const step = fc.record({ op: fc.constantFrom<'plug' | 'unplug'>('plug', 'unplug'), port: fc.integer({ min: 5, max: 7 }), instance: fc.integer({ min: 0, max: 1 }) });
  const property = fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps: Step[]) => {
    const owner = new Map<number, number>();
    try {
      for (const [n, s] of steps.entries()) {
        const holder = owner.get(s.port);
        const state: VifPlugState = holder === undefined ? 'UNPLUGGED' : holder === s.instance ? 'PLUGGED' : 'PLUGGED_FOR_OTHER_INSTANCE';
        const cell = VIF_PLUG_SEMANTICS[s.op][state];
        const where = `step ${n + 1} (${s.op} port ${s.port} for instance ${s.instance}, port ${state})`;
        let error: unknown;
        try {
          if (s.op === 'plug') await fx.plugin.plug(fx.vif(s.port), INSTANCES[s.instance]!);
          else await fx.plugin.unplug(fx.vif(s.port), INSTANCES[s.instance]!);
        } catch (e) {
          error = e;
        }
        if (cell.outcome === 'ok' || cell.outcome === 'noop') {
          expect(error === undefined, `${where}: failed with ${isDriverError(error) ? error.code : String(error)}; the table says it succeeds (${cell.why})`);
        } else {
          expect(isDriverError(error) && error.code === cell.outcome, `${where}: ${error === undefined ? 'succeeded' : isDriverError(error) ? error.code : String(error)}; the table says ${cell.outcome}`);
        }
        if (cell.to === 'PLUGGED') owner.set(s.port, s.instance);
        if (cell.to === 'UNPLUGGED') owner.delete(s.port);
        const listed = await fx.plugin.listPlugged();
        const expected = [...owner].map(([port, inst]) => `${String(fx.vif(port).id).toLowerCase()}@${INSTANCES[inst]!.uuid}`);
        const actual = listed.map((p) => `${p.vifId}@${p.instanceUuid}`);
        expect(sameSet(expected, actual), `${where}: listPlugged answers [${actual.join(', ')}], the model has [${expected.join(', ')}]`);
      }
    } finally {
      for (const [port, inst] of owner) await fx.plugin.unplug(fx.vif(port), INSTANCES[inst]!).catch(() => undefined);
    }
  });
  await checkModel(property, options);
}
