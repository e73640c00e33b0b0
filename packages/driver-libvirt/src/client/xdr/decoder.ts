/** Raised when a message is shorter than its XDR layout or carries an impossible value. */
export class XdrDecodeError extends Error {
  override readonly name = 'XdrDecodeError';
}

/** XDR (RFC 4506) decoder, the counterpart of XdrEncoder (hand-written for the same reason). */
export class XdrDecoder {
  private pos = 0;

  constructor(private readonly buf: Buffer, start = 0) {
    this.pos = start;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new XdrDecodeError(`XDR underflow: need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`);
    }
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bool(): boolean {
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrDecodeError(`XDR bool must be 0 or 1, got ${v}`);
    return v === 1;
  }

  hyper(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uhyper(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  fixedOpaque(length: number): Buffer {
    const padded = (length + 3) & ~3;
    this.need(padded);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
    this.pos += padded;
    return out;
  }

  opaque(max = 0xffffffff): Buffer {
    const n = this.uint();
    if (n > max) throw new XdrDecodeError(`XDR opaque of ${n} bytes exceeds ${max}`);
    return this.fixedOpaque(n);
  }

  string(max = 4_194_304): string {
    return this.opaque(max).toString('utf8');
  }

  optional<T>(read: (dec: this) => T): T | null {
    return this.bool() ? read(this) : null;
  }

  array<T>(read: (dec: this) => T, max = 0xffffffff): T[] {
    const n = this.uint();
    if (n > max) throw new XdrDecodeError(`XDR array of ${n} elements exceeds ${max}`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this));
    return out;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}
