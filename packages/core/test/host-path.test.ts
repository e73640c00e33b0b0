import { describe, expect, it } from 'vitest';
import { ConnectionInfoSchema, HostPathSchema } from '../src/index.js';

const messageOf = (path: string): string | undefined => HostPathSchema.safeParse(path).error?.issues[0]?.message;

describe('HostPathSchema', () => {
  it('accepts absolute paths of files and devices', () => {
    for (const p of ['/dev/sdb', '/var/lib/volumes/v1.img', '/a']) expect(HostPathSchema.parse(p)).toBe(p);
  });

  it('refuses the root directory, however it is written, with a message saying so', () => {
    for (const p of ['/', '//', '///']) expect(messageOf(p)).toBe('must name a file or device, not the root directory');
  });

  it('refuses relative and empty paths, .. segments and control characters, each with its own message', () => {
    expect(messageOf('')).toBe('must be an absolute path');
    expect(messageOf('dev/sdb')).toBe('must be an absolute path');
    expect(messageOf('/var/../etc/shadow')).toBe('must not contain .. segments');
    expect(messageOf('/dev/sd\nb')).toBe('must not contain control characters');
  });

  it('names the path field of a connection info', () => {
    const r = ConnectionInfoSchema.safeParse({ driverVolumeType: 'block', devicePath: '/' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['devicePath']);
  });
});
