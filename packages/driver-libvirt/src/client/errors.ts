import type { RemoteError } from './protocol/remote-types.js';

/** libvirtd answered a call with an error (status ERROR); carries libvirt's virErrorNumber. */
export class LibvirtError extends Error {
  override readonly name = 'LibvirtError';
  readonly code: number;
  readonly domain: number;
  readonly proc: number;

  constructor(remote: RemoteError, proc: number) {
    super(remote.message ?? `libvirt error ${remote.code}`);
    this.code = remote.code;
    this.domain = remote.domain;
    this.proc = proc;
  }
}

/** The daemon could not be reached, or the connection dropped while a call was in flight. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

/** No reply arrived within the call timeout; the call's outcome is unknown. */
export class CallTimeoutError extends Error {
  override readonly name = 'CallTimeoutError';
}

/** The caller's AbortSignal fired before the reply arrived. */
export class CallAbortedError extends Error {
  override readonly name = 'CallAbortedError';
}

/** The daemon sent something this client cannot parse (wrong program, bad framing). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}
