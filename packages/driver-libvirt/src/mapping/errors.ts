import { DriverError, isDriverError, type ErrorCode } from '@nova-common/core';
import { CallAbortedError, CallTimeoutError, ConnectionLostError, LibvirtError, ProtocolError } from '../client/errors.js';
import { VirErr } from '../client/protocol/remote-types.js';
import { XdrDecodeError } from '../client/xdr/decoder.js';

/**
 * libvirt error -> contract error code. Wrong-state answers are NOT derived from libvirt's
 * codes (the test driver says INTERNAL_ERROR where QEMU says OPERATION_INVALID): the driver
 * decides state from DOMAIN_GET_STATE before acting, so what reaches this mapping is a real
 * failure.
 */
export function codeForLibvirtError(err: LibvirtError): ErrorCode {
  switch (err.code) {
    case VirErr.NO_DOMAIN:
      return 'INSTANCE_NOT_FOUND';
    case VirErr.DOM_EXIST:
      return 'INSTANCE_EXISTS';
    case VirErr.OPERATION_INVALID:
      return 'INVALID_STATE';
    case VirErr.NO_SUPPORT:
    case VirErr.OPERATION_UNSUPPORTED:
    case VirErr.ARGUMENT_UNSUPPORTED:
    case VirErr.CONFIG_UNSUPPORTED:
      return 'UNSUPPORTED';
    case VirErr.XML_ERROR:
    case VirErr.XML_INVALID_SCHEMA:
    case VirErr.INVALID_ARG:
      return 'INVALID_INPUT';
    case VirErr.OPERATION_TIMEOUT:
      return 'TIMEOUT';
    case VirErr.RESOURCE_BUSY:
    case VirErr.AGENT_UNRESPONSIVE:
      return 'CONFLICT';
    case VirErr.INVALID_CONN:
    case VirErr.RPC:
      return 'BACKEND_UNAVAILABLE';
    case VirErr.OPERATION_ABORTED:
      return 'CANCELLED';
    default:
      return 'INTERNAL';
  }
}

/** Anything a call threw -> a DriverError for operation `op` on `target`. */
export function toContractError(err: unknown, op: string, target?: string): DriverError {
  if (err instanceof DriverError) return err.withOp(op);
  if (isDriverError(err)) return new DriverError((err as { code: ErrorCode }).code, { op, ...(target !== undefined ? { target } : {}), cause: err });
  const base = { op, ...(target !== undefined ? { target } : {}), cause: err };
  if (err instanceof LibvirtError) {
    const code = codeForLibvirtError(err);
    if (code === 'INVALID_INPUT') return new DriverError('INVALID_INPUT', { ...base, issues: [{ path: [], message: `libvirt refused it: ${err.message}` }] });
    return new DriverError(code, { ...base, detail: `libvirt error ${err.code}: ${err.message}` });
  }
  if (err instanceof ConnectionLostError) return new DriverError('BACKEND_UNAVAILABLE', { ...base, detail: err.message });
  if (err instanceof CallTimeoutError) return new DriverError('TIMEOUT', { ...base, detail: err.message });
  if (err instanceof CallAbortedError) {
    // The guard aborts with the call's own error (TIMEOUT or CANCELLED): keep it.
    if (isDriverError(err.cause)) return toContractError(err.cause, op, target);
    return new DriverError('CANCELLED', { ...base, detail: err.message });
  }
  if (err instanceof ProtocolError || err instanceof XdrDecodeError) return new DriverError('INTERNAL', { ...base, detail: err.message });
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new DriverError('INTERNAL', { ...base, detail });
}

export function isLibvirtCode(err: unknown, ...codes: number[]): boolean {
  return err instanceof LibvirtError && codes.includes(err.code);
}
