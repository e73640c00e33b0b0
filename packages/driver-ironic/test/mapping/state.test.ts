import { describe, expect, it } from 'vitest';
import { NodeInventorySchema, NodeInfoSchema } from '@nova-common/core';
import { customResourceClass, nodeInfoOf, semanticStateOf, powerStateOfNode, modeOfNode } from '../../src/mapping/state.js';
import { nodeInventoryOf } from '../../src/mapping/inventory.js';
import { userDataText, hostnameOf, BinaryUserDataError } from '../../src/mapping/configdrive.js';
import type { IronicNode } from '../../src/client/types.js';

const node = (over: Partial<IronicNode>): IronicNode => ({
  uuid: '11111111-1111-4111-8111-111111111111',
  provision_state: 'active',
  target_provision_state: null,
  power_state: 'power on',
  target_power_state: null,
  maintenance: false,
  instance_uuid: '22222222-2222-4222-8222-222222222222',
  resource_class: 'baremetal',
  traits: ['CUSTOM_RAID', 'HW_CPU_X86_AVX2'],
  ...over,
});

describe('instance state from Ironic', () => {
  it.each([
    [{ provision_state: 'active', power_state: 'power on' }, 'RUNNING', 'RUNNING', 'normal'],
    [{ provision_state: 'active', power_state: 'power off' }, 'SHUTDOWN', 'SHUTDOWN', 'normal'],
    [{ provision_state: 'active', power_state: null }, 'NOSTATE', 'NOSTATE', 'normal'],
    [{ provision_state: 'active', power_state: 'error' }, 'NOSTATE', 'NOSTATE', 'normal'],
    [{ provision_state: 'rescue', power_state: 'power on' }, 'RUNNING', 'RESCUE', 'rescue'],
    [{ provision_state: 'rescue', power_state: 'power off' }, 'SHUTDOWN', 'SHUTDOWN', 'rescue'],
    [{ provision_state: 'deploy failed', power_state: 'power off' }, 'CRASHED', 'CRASHED', 'normal'],
    [{ provision_state: 'error', power_state: 'power on' }, 'CRASHED', 'CRASHED', 'normal'],
    [{ provision_state: 'rescue failed', power_state: 'power on' }, 'CRASHED', 'CRASHED', 'rescue'],
    [{ provision_state: 'active', power_state: null, maintenance: true, fault: 'power failure' }, 'CRASHED', 'CRASHED', 'normal'],
    [{ provision_state: 'active', power_state: 'power on', maintenance: true, fault: null }, 'RUNNING', 'RUNNING', 'normal'],
    [{ provision_state: 'active', power_state: 'power on', maintenance: true, fault: 'clean failure' }, 'RUNNING', 'RUNNING', 'normal'],
  ] as const)('%o -> power %s, semantic %s, mode %s', (over, power, semantic, mode) => {
    const n = node(over);
    expect(powerStateOfNode(n)).toBe(power);
    expect(semanticStateOf(n)).toBe(semantic);
    expect(modeOfNode(n)).toBe(mode);
  });
});

describe('nodes and inventory', () => {
  it.each([
    [{ instance_uuid: null, provision_state: 'available', power_state: 'power off' }, false, true, undefined],
    [{ instance_uuid: null, provision_state: 'available', power_state: 'power off', maintenance: true }, false, false, 'maintenance'],
    [{ instance_uuid: null, provision_state: 'available', power_state: null }, false, false, 'no-power-state'],
    [{ instance_uuid: null, provision_state: 'cleaning', power_state: 'power off' }, false, false, 'cleaning'],
    [{ instance_uuid: null, provision_state: 'clean failed', power_state: 'power off' }, false, false, 'error'],
    [{ instance_uuid: null, provision_state: 'manageable', power_state: 'power off' }, false, false, 'not-available'],
    [{ provision_state: 'active' }, false, false, 'in-use'],
    [{ provision_state: 'active' }, true, false, 'in-use'],
  ] as const)('%o ours=%s -> available %s (%s)', (over, ours, available, reason) => {
    const info = NodeInfoSchema.parse(nodeInfoOf(node(over), ours));
    expect(info.available).toBe(available);
    expect(info.unavailableReason).toBe(reason);
    expect(info.instanceUuid !== undefined).toBe(ours);
  });

  it('one unit of the custom class: used when ours, reserved when unavailable otherwise, traits copied', () => {
    const ours = NodeInventorySchema.parse(nodeInventoryOf(node({}), true));
    expect(ours.resources.CUSTOM_BAREMETAL).toMatchObject({ total: 1, used: 1, reserved: 0, maxUnit: 1 });
    expect(ours.traits).toEqual(['CUSTOM_RAID', 'HW_CPU_X86_AVX2']);
    const foreign = nodeInventoryOf(node({}), false);
    expect(foreign.resources.CUSTOM_BAREMETAL).toMatchObject({ used: 0, reserved: 1 });
    const free = nodeInventoryOf(node({ instance_uuid: null, provision_state: 'available', power_state: 'power off' }), false);
    expect(free.resources.CUSTOM_BAREMETAL).toMatchObject({ used: 0, reserved: 0, total: 1 });
    expect(nodeInventoryOf(node({ resource_class: null }), false).resources).toEqual({});
  });

  it('names the custom class as Nova does', () => {
    expect(customResourceClass('baremetal')).toBe('CUSTOM_BAREMETAL');
    expect(customResourceClass('bm.gold-v2')).toBe('CUSTOM_BM_GOLD_V2');
    expect(customResourceClass('CUSTOM_X')).toBe('CUSTOM_X');
  });
});

describe('config drive details', () => {
  it('refuses binary user data (the JSON form carries text)', () => {
    expect(() => userDataText(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'))).toThrow(BinaryUserDataError);
    expect(userDataText(Buffer.from('héllo').toString('base64'))).toBe('héllo');
  });

  it('derives a host name as Nova does and falls back to Server-<uuid> (the guard-normalised, lower-case uuid)', () => {
    expect(hostnameOf('  Web_Server 01 ', 'u')).toBe('web-server-01');
    expect(hostnameOf('%%%', '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b')).toBe('Server-6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b');
  });
});
