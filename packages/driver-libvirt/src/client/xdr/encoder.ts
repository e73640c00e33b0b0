/**
 * XDR (RFC 4506) encoder for libvirt's remote protocol. Written by hand because the wire
 * format needs only a handful of primitives (32/64-bit integers, strings, opaques, optional
 * pointers, variable arrays) and no maintained npm XDR library targets libvirt's .x file.
 */
export class XdrEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`XDR int out of range: ${value}`);
    }
    this.ensure(4);
    this.buf.writeInt32BE(value, this.pos);
    this.pos += 4;
    return this;
  }

  uint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`XDR unsigned int out of range: ${value}`);
    }
    this.ensure(4);
    this.buf.writeUInt32BE(value, this.pos);
    this.pos += 4;
    return this;
  }

  bool(value: boolean): this {
    return this.int(value ? 1 : 0);
  }

  hyper(value: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(value, this.pos);
    this.pos += 8;
    return this;
  }

  uhyper(value: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(value, this.pos);
    this.pos += 8;
    return this;
  }

  /** Fixed-length opaque: exactly `length` bytes, padded to a multiple of 4. */
  fixedOpaque(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`XDR fixed opaque needs ${length} bytes, got ${bytes.length}`);
    const padded = (length + 3) & ~3;
    this.ensure(padded);
    this.buf.set(bytes, this.pos);
    this.buf.fill(0, this.pos + length, this.pos + padded);
    this.pos += padded;
    return this;
  }

  /** Variable-length opaque: u32 length, bytes, padding. */
  opaque(bytes: Uint8Array, max = 0xffffffff): this {
    if (bytes.length > max) throw new RangeError(`XDR opaque longer than ${max}`);
    this.uint(bytes.length);
    return this.fixedOpaque(bytes, bytes.length);
  }

  /** A string: UTF-8 bytes as a variable opaque. */
  string(value: string, max = 4_194_304): this {
    return this.opaque(Buffer.from(value, 'utf8'), max);
  }

  /** An optional value (XDR pointer): a bool, then the value when present. */
  optional<T>(value: T | null | undefined, write: (enc: this, v: T) => void): this {
    if (value === null || value === undefined) return this.bool(false);
    this.bool(true);
    write(this, value);
    return this;
  }

  /** A variable-length array: u32 count, then each element. */
  array<T>(items: readonly T[], write: (enc: this, v: T) => void, max = 0xffffffff): this {
    if (items.length > max) throw new RangeError(`XDR array longer than ${max}`);
    this.uint(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a copy). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
