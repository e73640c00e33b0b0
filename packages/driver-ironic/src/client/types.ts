/** The parts of Ironic's node resource the driver reads (API microversion >= 1.56). */
export type ProvisionState =
  | 'enroll' | 'verifying' | 'manageable' | 'available' | 'active' | 'deploying' | 'wait call-back'
  | 'deploy failed' | 'deleting' | 'deleted' | 'cleaning' | 'clean wait' | 'clean failed' | 'error'
  | 'rebuild' | 'inspecting' | 'inspect wait' | 'inspect failed' | 'adopting' | 'adopt failed'
  | 'rescue' | 'rescuing' | 'rescue wait' | 'rescue failed' | 'unrescuing' | 'unrescue failed'
  | 'servicing' | 'service wait' | 'service failed' | (string & {});

export type PowerStateValue = 'power on' | 'power off' | 'error' | (string & {}) | null;

export interface IronicNode {
  uuid: string;
  name?: string | null;
  provision_state?: ProvisionState;
  target_provision_state?: ProvisionState | null;
  power_state?: PowerStateValue;
  target_power_state?: PowerStateValue;
  maintenance?: boolean;
  maintenance_reason?: string | null;
  instance_uuid?: string | null;
  instance_info?: Record<string, unknown>;
  resource_class?: string | null;
  traits?: string[];
  reservation?: string | null;
  last_error?: string | null;
  conductor_group?: string;
  owner?: string | null;
  properties?: Record<string, unknown>;
  fault?: string | null;
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export interface ValidateResult {
  [iface: string]: { result: boolean | null; reason?: string | null };
}

export interface ConsoleState {
  console_enabled: boolean;
  console_info: { type?: string; url?: string } | null;
}

/** Fields the watcher and the state mapping need; cheap to list for 1,000 nodes. */
export const STATE_FIELDS = [
  'uuid', 'name', 'provision_state', 'target_provision_state', 'power_state', 'target_power_state',
  'maintenance', 'instance_uuid', 'reservation', 'last_error', 'fault',
] as const;

/** Fields for inventory and listing: the state plus class, traits and our ownership record. */
export const INVENTORY_FIELDS = [...STATE_FIELDS, 'resource_class', 'traits', 'instance_info'] as const;
