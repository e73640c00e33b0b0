import { XdrDecoder } from '../xdr/decoder.js';
import { XdrEncoder } from '../xdr/encoder.js';

/** libvirt's remote program (src/remote/remote_protocol.x: REMOTE_PROGRAM). */
export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
/**
 * libvirt's QEMU program (src/remote/qemu_protocol.x: QEMU_PROGRAM): talking to a guest's QEMU
 * monitor through libvirtd, which holds the domain's job meanwhile. Used only to remove what
 * QEMU holds and libvirtd lost track of (see driver/orphan-devices.ts).
 */
export const QEMU_PROGRAM = 0x20008087;
export const QEMU_PROTOCOL_VERSION = 1;
export const QEMU_PROC_DOMAIN_MONITOR_COMMAND = 1;
/** The keepalive program (src/rpc/virkeepaliveprotocol.x: "keep" in ASCII). */
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_VERSION = 1;
export const KEEPALIVE_PROC_PING = 1;
export const KEEPALIVE_PROC_PONG = 2;

/** Largest message libvirtd accepts or sends (VIR_NET_MESSAGE_MAX, 32 MiB in libvirt 9). */
export const MESSAGE_MAX = 32 * 1024 * 1024;
/** u32 length word + the 24-byte header. */
export const HEADER_SIZE = 28;

/** virNetMessageType */
export const MessageType = { CALL: 0, REPLY: 1, MESSAGE: 2, STREAM: 3, CALL_WITH_FDS: 4, REPLY_WITH_FDS: 5 } as const;
/** virNetMessageStatus */
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

export interface MessageHeader {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

/** Frame one message: length word (counting itself), header, body. */
export function encodeMessage(header: MessageHeader, body?: Buffer): Buffer {
  const bodyLength = body?.length ?? 0;
  const enc = new XdrEncoder(HEADER_SIZE + bodyLength);
  enc
    .uint(HEADER_SIZE + bodyLength)
    .uint(header.prog)
    .uint(header.vers)
    .int(header.proc)
    .int(header.type)
    .uint(header.serial)
    .int(header.status);
  const head = enc.toBuffer();
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

/** Decode the header of one complete frame (including its length word). */
export function decodeHeader(frame: Buffer): MessageHeader {
  const dec = new XdrDecoder(frame, 4);
  return {
    prog: dec.uint(),
    vers: dec.uint(),
    proc: dec.int(),
    type: dec.int(),
    serial: dec.uint(),
    status: dec.int(),
  };
}
