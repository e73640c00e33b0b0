/**
 * Ironic's node state -> the contract's view. An instance's power state comes from the node's
 * power_state; its semantic state also depends on the provision state (rescue, failures).
 */
import type { InstanceMode, NodeInfo, NodeUnavailableReason, PowerState, SemanticState } from '@nova-common/core';
import type { IronicNode } from '../client/types.js';

/** Provision states in which the instance is broken beyond a power action. */
export const FAILED_PROVISION_STATES: ReadonlySet<string> = new Set(['deploy failed', 'error', 'rescue failed', 'unrescue failed']);
const FAILED = FAILED_PROVISION_STATES;
/** Ironic's `fault` when its power sync could no longer read the node's power (it then sets maintenance itself). */
export const POWER_FAILURE_FAULT = 'power failure';
/** Provision states of a node booted into its rescue ramdisk. */
const RESCUE = new Set(['rescue', 'rescuing', 'rescue wait', 'rescue failed', 'unrescuing', 'unrescue failed']);
const CLEANING = new Set(['cleaning', 'clean wait', 'deleting', 'deleted']);

/**
 * Whether the instance on this node is CRASHED in the contract's sense: its deploy (or rebuild,
 * rescue, unrescue) failed, or Ironic lost the power of the deployed node (its power sync failed:
 * `fault: power failure`, which Ironic records together with maintenance).
 */
export function isCrashed(node: IronicNode): boolean {
  return FAILED.has(node.provision_state ?? '') || node.fault === POWER_FAILURE_FAULT;
}

/**
 * Ironic power_state -> contract power state. Null (or `error` without a power failure) is NOSTATE:
 * Ironic does not know the power (fake hardware before its first power action, an adopted node).
 */
export function powerStateOfNode(node: IronicNode): PowerState {
  if (isCrashed(node)) return 'CRASHED';
  switch (node.power_state) {
    case 'power on':
      return 'RUNNING';
    case 'power off':
      return 'SHUTDOWN';
    default:
      return 'NOSTATE';
  }
}

export function modeOfNode(node: IronicNode): InstanceMode {
  return RESCUE.has(node.provision_state ?? '') ? 'rescue' : 'normal';
}

/** The row of the semantics table an instance on this node is in. */
export function semanticStateOf(node: IronicNode): Exclude<SemanticState, 'ABSENT'> {
  const power = powerStateOfNode(node);
  if (power === 'RUNNING' && modeOfNode(node) === 'rescue') return 'RESCUE';
  return power;
}

/**
 * Whether a node can take a new instance, and if not why. `ours` says the node hosts one of
 * this driver's instances.
 */
export function nodeAvailability(node: IronicNode, ours: boolean): { available: boolean; reason?: NodeUnavailableReason } {
  if (ours || node.instance_uuid) return { available: false, reason: 'in-use' };
  if (node.maintenance) return { available: false, reason: 'maintenance' };
  if (node.power_state !== 'power on' && node.power_state !== 'power off') return { available: false, reason: 'no-power-state' };
  const ps = node.provision_state ?? '';
  if (CLEANING.has(ps)) return { available: false, reason: 'cleaning' };
  if (FAILED.has(ps) || ps === 'clean failed' || ps === 'inspect failed' || ps === 'adopt failed') return { available: false, reason: 'error' };
  if (ps !== 'available' || node.target_provision_state) return { available: false, reason: 'not-available' };
  return { available: true };
}

export function nodeInfoOf(node: IronicNode, ours: boolean): NodeInfo {
  const a = nodeAvailability(node, ours);
  const info: NodeInfo = { id: node.uuid, available: a.available };
  if (!a.available) info.unavailableReason = a.reason;
  if (ours && node.instance_uuid) info.instanceUuid = node.instance_uuid;
  return info;
}

/** Nova's rule: CUSTOM_ + the node's resource_class upper-cased, every other character -> `_`. */
export function customResourceClass(resourceClass: string): string {
  const norm = resourceClass.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return norm.startsWith('CUSTOM_') ? norm : `CUSTOM_${norm}`;
}
