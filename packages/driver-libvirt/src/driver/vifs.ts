import { existsSync } from 'node:fs';
import type { InputIssue, Vif } from '@nova-common/core';
import type { InterfaceRecord } from '../mapping/instance-record.js';

/**
 * VIFs the driver can wire: type `bridge` with vnic type `normal`. With the network's bridge
 * named, the guest's NIC is a tap device libvirt adds to that bridge (the bridge must exist on
 * the host: the network service plugs it, as os-vif does for Nova); with none named, QEMU's
 * user-mode network (a NIC with no host wiring, for hosts without one). Every other type (ovs,
 * vhostuser, macvtap, hostdev, ...) needs a plug this driver does not make: refused at the wall,
 * naming the field, before any libvirt call.
 */
export function vifIssues(vif: Vif, field: (string | number)[], onHost: boolean): InputIssue[] {
  const issues: InputIssue[] = [];
  if (vif.type !== 'bridge') issues.push({ path: [...field, 'type'], message: `VIF type ${vif.type} cannot be wired by this driver (bridge only)` });
  if (vif.vnicType !== 'normal') issues.push({ path: [...field, 'vnicType'], message: `vnic type ${vif.vnicType} cannot be wired by this driver (normal only)` });
  const bridge = vif.network.bridge;
  if (bridge !== undefined && (bridge === '.' || bridge === '..' || (onHost && !existsSync(`/sys/class/net/${bridge}/bridge`)))) {
    issues.push({ path: [...field, 'network', 'bridge'], message: `no bridge ${bridge} on this host` });
  }
  const devname = vif.devname;
  if (devname !== undefined && bridge !== undefined && (devname === '.' || devname === '..' || (onHost && existsSync(`/sys/class/net/${devname}`)))) {
    issues.push({ path: [...field, 'devname'], message: `a network device ${devname} already exists on this host` });
  }
  return issues;
}

/** What the driver keeps of a VIF: the MAC (lower case for libvirt, as written for the caller), the model, its wiring. */
export function interfaceRecord(vif: Vif, model: string): InterfaceRecord {
  const bridge = vif.network.bridge;
  return {
    id: vif.id.toLowerCase(),
    mac: vif.address.toLowerCase(),
    model,
    address: vif.address,
    ...(bridge !== undefined ? { bridge } : {}),
    ...(bridge !== undefined && vif.network.mtu !== undefined ? { mtu: vif.network.mtu } : {}),
    ...(bridge !== undefined && vif.devname !== undefined ? { devname: vif.devname } : {}),
  };
}
