import { describe, expect, it } from 'vitest';
import { containerName, instanceLabels, isOwned, phaseOfName, readInstanceLabels } from '../src/mapping/labels.js';
import { networkName, vifOfEndpoint, endpointFor } from '../src/mapping/networks.js';
import { needsStopRecord, powerStateOf } from '../src/mapping/state.js';
import { demultiplex, tailOutput } from '../src/mapping/console.js';
import { isValidImageReference, imageAllowed } from '../src/mapping/images.js';
import { VifSchema } from '@nova-common/core';
import type { ContainerState } from '../src/client/types.js';

const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'ci' };
const uuid = '0A1B2C3D-2222-4333-8444-555555555555';

describe('labels and ownership', () => {
  it('round-trips instance data through labels, metadata included unchanged', () => {
    const data = {
      uuid,
      name: 'ünïcode "name"',
      metadata: { '__proto__': 'x', a: '' },
      flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
      node: 'n',
      image: { id: 'i', diskFormat: 'raw' as const, containerFormat: 'docker' as const, minDiskGb: 0, minRamMb: 0, properties: {} },
      volumes: [],
    };
    const labels = instanceLabels(naming, { ...data, metadata: Object.fromEntries(Object.entries(data.metadata)) });
    const back = readInstanceLabels(naming, labels)!;
    expect(back.uuid).toBe(uuid);
    expect(back.name).toBe(data.name);
    expect(Object.entries(back.metadata)).toEqual(Object.entries(data.metadata));
  });

  it('owns only objects with its owner id and kind', () => {
    const labels = instanceLabels(naming, {
      uuid, name: 'x', metadata: {}, node: 'n', volumes: [],
      flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
      image: { id: 'i', diskFormat: 'raw', containerFormat: 'docker', minDiskGb: 0, minRamMb: 0, properties: {} },
    });
    expect(isOwned(naming, labels, 'instance')).toBe(true);
    expect(isOwned({ ...naming, ownerId: 'other' }, labels, 'instance')).toBe(false);
    expect(isOwned(naming, labels, 'network')).toBe(false);
    expect(isOwned(naming, null)).toBe(false);
    expect(isOwned(naming, { 'io.nova-common.uuid': uuid })).toBe(false);
    expect(readInstanceLabels(naming, { ...labels, 'io.nova-common.owner': 'someone' })).toBeUndefined();
  });

  it('names containers from the (guard-canonical, lower-case) uuid and parses the phase back', () => {
    const canonical = uuid.toLowerCase();
    expect(containerName(naming, canonical)).toBe('nova-0a1b2c3d-2222-4333-8444-555555555555');
    expect(containerName(naming, canonical, 'spawning')).toBe('nova-spawning-0a1b2c3d-2222-4333-8444-555555555555');
    expect(containerName(naming, canonical, 'replacing')).toBe('nova-replacing-0a1b2c3d-2222-4333-8444-555555555555');
    for (const phase of ['instance', 'spawning', 'replacing'] as const) {
      expect(phaseOfName(naming, '/' + containerName(naming, canonical, phase))).toEqual({ phase, uuid: canonical });
    }
    expect(phaseOfName(naming, '/novax-0a1b2c3d-2222-4333-8444-555555555555')).toBeUndefined();
    expect(phaseOfName(naming, '/something-else')).toBeUndefined();
  });

  it('gives each network id its own engine network name and reads a VIF back from its endpoint', () => {
    expect(networkName(naming, 'net-1')).not.toBe(networkName(naming, 'net-2'));
    expect(networkName(naming, 'NET 1')).not.toBe(networkName(naming, 'net-1'));
    expect(networkName(naming, 'x')).toMatch(/^[a-z0-9][a-z0-9_.-]+$/);
    const vif = VifSchema.parse({ id: '99999999-2222-4333-8444-555555555555', address: 'FA:16:3E:00:00:0A', network: { id: 'n' } });
    const ep = endpointFor(naming, vif, false);
    expect(ep.MacAddress).toBeUndefined();
    expect(vifOfEndpoint(naming, { ...ep, MacAddress: '02:42:ac:11:00:02' })).toEqual({ id: vif.id, address: 'fa:16:3e:00:00:0a' });
    expect(vifOfEndpoint(naming, { Aliases: ['abc'] })).toBeUndefined();
  });
});

describe('state mapping', () => {
  const base: ContainerState = { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: '', FinishedAt: '' };
  // [engine state, the driver asked this run to stop, power state]
  it.each([
    [{ Status: 'running' }, false, 'RUNNING'],
    [{ Status: 'paused', Paused: true }, false, 'PAUSED'],
    [{ Status: 'running', Paused: true }, false, 'PAUSED'],
    [{ Status: 'restarting' }, false, 'RUNNING'],
    [{ Status: 'stopping' }, false, 'RUNNING'],
    [{ Status: 'created' }, false, 'SHUTDOWN'],
    // Ended runs nobody asked to stop: a clean exit (0, or SIGTERM from anyone: 143) is SHUTDOWN, anything else a crash.
    [{ Status: 'exited', ExitCode: 0 }, false, 'SHUTDOWN'],
    [{ Status: 'exited', ExitCode: 143 }, false, 'SHUTDOWN'],
    // podman, between the init's end and the engine's cleanup of the run.
    [{ Status: 'stopped', ExitCode: 143 }, false, 'SHUTDOWN'],
    [{ Status: 'stopped', ExitCode: 137 }, false, 'CRASHED'],
    [{ Status: 'stopped', ExitCode: 137 }, true, 'SHUTDOWN'],
    [{ Status: 'exited', ExitCode: 137 }, false, 'CRASHED'],
    [{ Status: 'exited', ExitCode: 1 }, false, 'CRASHED'],
    [{ Status: 'exited', ExitCode: 139 }, false, 'CRASHED'],
    [{ Status: 'exited', ExitCode: 143, OOMKilled: true }, false, 'CRASHED'],
    [{ Status: 'dead' }, false, 'CRASHED'],
    // Runs the driver asked to stop (or whose crash it acknowledged) read SHUTDOWN however they ended.
    [{ Status: 'exited', ExitCode: 137 }, true, 'SHUTDOWN'],
    [{ Status: 'exited', ExitCode: 1 }, true, 'SHUTDOWN'],
    [{ Status: 'exited', ExitCode: 137, OOMKilled: true }, true, 'SHUTDOWN'],
    [{ Status: 'dead' }, true, 'SHUTDOWN'],
    [{ Status: 'removing' }, false, 'NOSTATE'],
    [{ Status: 'configured' }, false, 'NOSTATE'],
  ] as const)('%j (stop asked: %s) -> %s', (s, asked, expected) => {
    expect(powerStateOf({ ...base, ...s }, asked)).toBe(expected);
  });

  it('consults the record of asked stops only for runs that would otherwise read CRASHED', () => {
    expect(needsStopRecord({ ...base, Status: 'exited', ExitCode: 137 })).toBe(true);
    expect(needsStopRecord({ ...base, Status: 'exited', ExitCode: 0, OOMKilled: true })).toBe(true);
    expect(needsStopRecord({ ...base, Status: 'dead' })).toBe(true);
    expect(needsStopRecord({ ...base, Status: 'exited', ExitCode: 143 })).toBe(false);
    expect(needsStopRecord({ ...base, Status: 'running' })).toBe(false);
    expect(needsStopRecord({ ...base, Status: 'created' })).toBe(false);
    expect(needsStopRecord({ ...base, Status: 'created' }, true)).toBe(true);
  });

  it('reads a never-started replacement that carries a crash as CRASHED, and SHUTDOWN once the driver acknowledged it', () => {
    expect(powerStateOf({ ...base, Status: 'created' }, false, true)).toBe('CRASHED');
    expect(powerStateOf({ ...base, Status: 'created' }, true, true)).toBe('SHUTDOWN');
    // The label says nothing about a container that has run since.
    expect(powerStateOf({ ...base, Status: 'running' }, false, true)).toBe('RUNNING');
    expect(powerStateOf({ ...base, Status: 'exited', ExitCode: 0 }, false, true)).toBe('SHUTDOWN');
  });
});

describe('console output', () => {
  function frame(stream: number, text: string): Buffer {
    const payload = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
  }
  it('demultiplexes stdout and stderr in order', () => {
    expect(demultiplex(Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err ü\n'), frame(1, 'out 2\n')]))).toBe('out 1\nerr ü\nout 2\n');
    expect(demultiplex(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
  });
  it('keeps the tail within the line and byte limits and says when it cut', () => {
    expect(tailOutput('a\nb\nc\n', 2, 1024, false)).toEqual({ output: 'b\nc\n', truncated: true });
    expect(tailOutput('a\nb\n', 2, 1024, false)).toEqual({ output: 'a\nb\n', truncated: false });
    const long = tailOutput('ü'.repeat(1000), 10, 1024, false);
    expect(Buffer.byteLength(long.output)).toBeLessThanOrEqual(1024);
    expect(long.output).toMatch(/^ü+$/);
    expect(long.truncated).toBe(true);
  });
});

describe('image references', () => {
  it('accepts local references and image ids, refuses the rest', () => {
    for (const ok of ['busybox', 'nova-common/busybox:latest', 'localhost:5000/a/b:v1.2', 'sha256:' + 'a'.repeat(64), 'a'.repeat(64)]) {
      expect(isValidImageReference(ok), ok).toBe(true);
    }
    for (const bad of ['', 'Upper/Case', 'a b', '../etc', 'x:', 'x@sha256:zz', '-x', 'a'.repeat(256)]) {
      expect(isValidImageReference(bad), bad).toBe(false);
    }
    expect(imageAllowed(undefined, 'x')).toBe(true);
    expect(imageAllowed(['nova-common/*'], 'nova-common/busybox:latest')).toBe(true);
    expect(imageAllowed(['nova-common/busybox:latest'], 'other:latest')).toBe(false);
  });
});
