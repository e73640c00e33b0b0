import type { ErrorCode } from '../errors/codes.js';

/**
 * The plug contracts' semantics: what each call does in each state of the thing it acts on,
 * with the reason, as the compute contract's table does for instances. The suite's plug
 * properties check every cell; docs/plugs.md renders the reasons.
 */
export type VifPlugState = 'UNPLUGGED' | 'PLUGGED' | 'PLUGGED_FOR_OTHER_INSTANCE';
export type VolumeConnectState = 'DISCONNECTED' | 'CONNECTED';
export type VifPlugOperation = 'plug' | 'unplug';
export type VolumeConnectOperation = 'connect' | 'disconnect' | 'extend';

export interface PlugCell<S extends string> {
  /** `ok`: the call does its work and ends in `to`; `noop`: success, nothing changes; otherwise the error code. */
  outcome: 'ok' | 'noop' | ErrorCode;
  to?: S;
  why: string;
}

export const VIF_PLUG_SEMANTICS: Record<VifPlugOperation, Record<VifPlugState, PlugCell<VifPlugState>>> = {
  plug: {
    UNPLUGGED: { outcome: 'ok', to: 'PLUGGED', why: 'Creates the host device and puts it on the bridge; on any failure, removes what it made.' },
    PLUGGED: {
      outcome: 'noop',
      why: 'A retried plug (lost answer, restarted caller) must not fail or make a second device: it answers the same device.',
    },
    PLUGGED_FOR_OTHER_INSTANCE: {
      outcome: 'CONFLICT',
      why: 'A port is bound to one instance; plugging it for a second one is a caller bug that must not steal the first one\'s device.',
    },
  },
  unplug: {
    UNPLUGGED: { outcome: 'noop', why: 'Unplug is cleanup: a retried or duplicate unplug succeeds, so callers can always call it.' },
    PLUGGED: { outcome: 'ok', to: 'UNPLUGGED', why: 'Removes the device (and a bridge only if the plugin created it and nothing else is on it).' },
    PLUGGED_FOR_OTHER_INSTANCE: {
      outcome: 'noop',
      why: 'The port is not this instance\'s: nothing of this instance is plugged, and the other instance\'s device is never touched.',
    },
  },
};

export const VOLUME_CONNECT_SEMANTICS: Record<VolumeConnectOperation, Record<VolumeConnectState, PlugCell<VolumeConnectState>>> = {
  connect: {
    DISCONNECTED: { outcome: 'ok', to: 'CONNECTED', why: 'Makes the volume reachable on the host; on any failure, undoes what it did.' },
    CONNECTED: { outcome: 'noop', why: 'A retried connect answers the same device or file: the host never holds two connections of one volume.' },
  },
  disconnect: {
    DISCONNECTED: { outcome: 'noop', why: 'Disconnect is cleanup: a retried or duplicate disconnect succeeds.' },
    CONNECTED: { outcome: 'ok', to: 'DISCONNECTED', why: 'Releases the device (loop device, login) the connect made; the volume\'s data is never touched.' },
  },
  extend: {
    DISCONNECTED: {
      outcome: 'VOLUME_NOT_ATTACHED',
      why: 'There is nothing on this host to refresh; the volume service grows the volume itself, and the next connect sees the new size.',
    },
    CONNECTED: { outcome: 'ok', to: 'CONNECTED', why: 'Makes the host see the grown volume (e.g. a loop device re-reads its file\'s size) and answers the size it sees.' },
  },
};
