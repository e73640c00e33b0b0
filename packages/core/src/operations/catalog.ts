import type { CapabilityId } from '../capabilities/catalog.js';
import type { ErrorCode } from '../errors/codes.js';

/** Errors any operation may raise, in addition to its own list. */
export const COMMON_ERRORS: readonly ErrorCode[] = ['BACKEND_UNAVAILABLE', 'TIMEOUT', 'CANCELLED', 'CONFLICT', 'INTERNAL'];

const INSTANCE_OP_ERRORS: readonly ErrorCode[] = ['INVALID_INPUT', 'UNSUPPORTED', 'INSTANCE_NOT_FOUND', 'INVALID_STATE'];

export interface OperationDescriptor {
  /** The capability that must be declared for the operation to be called. */
  capability: CapabilityId | null;
  /** Mandatory operations have no capability gate beyond the core profile. */
  mandatory: boolean;
  /** Whether a repeated call with the same arguments yields the same result and state. */
  idempotent: boolean;
  /** Long operations get a larger default timeout. */
  long: boolean;
  /** Default timeout applied by the guard, in milliseconds. */
  defaultTimeoutMs: number;
  /** Errors the operation may raise besides COMMON_ERRORS. Anything else is a contract violation. */
  errors: readonly ErrorCode[];
  since: string;
}

const SHORT = 30_000;
const LONG = 600_000;

function op(d: Partial<OperationDescriptor> & Pick<OperationDescriptor, 'capability' | 'errors'>): OperationDescriptor {
  return { mandatory: false, idempotent: true, long: false, defaultTimeoutMs: SHORT, since: '1.0.0', ...d };
}

/** Every operation of the ComputeDriver interface, as data. */
export const OPERATIONS = {
  initHost: op({ capability: null, mandatory: true, errors: ['INVALID_INPUT'], long: true, defaultTimeoutMs: LONG }),
  cleanupHost: op({ capability: null, mandatory: true, errors: [] }),
  getCapabilities: op({ capability: null, mandatory: true, errors: [] }),
  listNodes: op({ capability: null, mandatory: true, errors: [] }),
  getInventory: op({ capability: null, mandatory: true, errors: [] }),
  listInstances: op({ capability: 'operation.get-guest-info', mandatory: true, errors: [] }),
  getInfo: op({ capability: 'operation.get-guest-info', mandatory: true, errors: ['INVALID_INPUT', 'INSTANCE_NOT_FOUND'] }),
  spawn: op({
    capability: 'operation.launch',
    mandatory: true,
    idempotent: false,
    long: true,
    defaultTimeoutMs: LONG,
    errors: ['INVALID_INPUT', 'INSTANCE_EXISTS', 'NODE_NOT_FOUND', 'NODE_UNAVAILABLE', 'INSUFFICIENT_RESOURCES'],
  }),
  destroy: op({ capability: 'operation.terminate', mandatory: true, long: true, defaultTimeoutMs: LONG, errors: ['INVALID_INPUT'] }),
  powerOff: op({ capability: 'operation.power-on-off', long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  powerOn: op({ capability: 'operation.power-on-off', long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  reboot: op({ capability: 'operation.reboot', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  pause: op({ capability: 'operation.pause', errors: INSTANCE_OP_ERRORS }),
  unpause: op({ capability: 'operation.unpause', errors: INSTANCE_OP_ERRORS }),
  suspend: op({ capability: 'operation.suspend', long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  resume: op({ capability: 'operation.resume', long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  rescue: op({ capability: 'operation.rescue', long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  unrescue: op({ capability: 'operation.rescue', long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  rebuild: op({ capability: 'operation.rebuild', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  snapshot: op({ capability: 'operation.snapshot', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS }),
  deleteSnapshot: op({ capability: 'operation.snapshot', errors: ['INVALID_INPUT', 'UNSUPPORTED'] }),
  attachVolume: op({ capability: 'operation.attach-volume', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: [...INSTANCE_OP_ERRORS, 'VOLUME_ALREADY_ATTACHED'] }),
  detachVolume: op({ capability: 'operation.detach-volume', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: [...INSTANCE_OP_ERRORS, 'VOLUME_NOT_ATTACHED'] }),
  extendVolume: op({ capability: 'operation.extend-volume', errors: [...INSTANCE_OP_ERRORS, 'VOLUME_NOT_ATTACHED'] }),
  attachInterface: op({ capability: 'operation.attach-interface', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: [...INSTANCE_OP_ERRORS, 'INTERFACE_ALREADY_ATTACHED'] }),
  detachInterface: op({ capability: 'operation.detach-interface', idempotent: false, long: true, defaultTimeoutMs: LONG, errors: [...INSTANCE_OP_ERRORS, 'INTERFACE_NOT_ATTACHED'] }),
  getConsoleOutput: op({ capability: 'console.serial.log', errors: INSTANCE_OP_ERRORS }),
} as const satisfies Record<string, OperationDescriptor>;

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/** Whether `code` is an error the operation is allowed to raise. */
export function isAllowedError(op: OperationName, code: ErrorCode): boolean {
  return COMMON_ERRORS.includes(code) || (OPERATIONS[op].errors as readonly ErrorCode[]).includes(code);
}
