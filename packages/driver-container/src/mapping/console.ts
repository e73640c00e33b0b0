/**
 * Container logs -> console output. Without a TTY the engine multiplexes stdout and
 * stderr in frames: 1 byte stream (1 stdout, 2 stderr), 3 zero bytes, a big-endian u32
 * length, then the payload. Both streams are kept, in order.
 */
export function demultiplex(buf: Buffer): string {
  const parts: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const stream = buf[off]!;
    const len = buf.readUInt32BE(off + 4);
    if (stream > 2 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) {
      // Not a multiplexed stream (a TTY container): the bytes are the text.
      return buf.toString('utf8');
    }
    parts.push(buf.subarray(off + 8, Math.min(buf.length, off + 8 + len)));
    off += 8 + len;
  }
  if (off < buf.length && parts.length === 0) return buf.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Keep the tail: at most `maxLines` lines and `maxBytes` bytes. `moreLines` says the engine
 * had more lines than were asked for.
 */
export function tailOutput(text: string, maxLines: number, maxBytes: number, moreLines: boolean): { output: string; truncated: boolean } {
  let truncated = moreLines;
  let lines = text.split('\n');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  if (lines.length > maxLines) {
    lines = lines.slice(lines.length - maxLines);
    truncated = true;
  }
  let output = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '');
  if (Buffer.byteLength(output, 'utf8') > maxBytes) {
    const bytes = Buffer.from(output, 'utf8');
    let start = bytes.length - maxBytes;
    // Do not start in the middle of a UTF-8 sequence.
    while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
    output = bytes.subarray(start).toString('utf8');
    truncated = true;
  }
  return { output, truncated };
}
