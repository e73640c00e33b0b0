import { describe, expect, it } from 'vitest';
import { differencesOf, engineKindOf, isNetworkInUse, isNotRunningAnswer, labelChanges } from '../src/mapping/engine-kind.js';
import { mountedTargets } from '../src/mapping/mounts.js';
import { mapEngineEvent } from '../src/mapping/events.js';
import type { EngineEvent } from '../src/client/types.js';

// GET /version answers as the engines send them (trimmed).
const DOCKERD = {
  Version: '20.10.24+dfsg1',
  ApiVersion: '1.41',
  Platform: { Name: '' },
  Components: [{ Name: 'Engine', Version: '20.10.24+dfsg1' }, { Name: 'containerd', Version: '1.6.20' }, { Name: 'runc', Version: '1.1.5' }],
};
const PODMAN = {
  Version: '4.3.1',
  ApiVersion: '1.41',
  Platform: { Name: 'linux/amd64/debian-12' },
  Components: [{ Name: 'Podman Engine', Version: '4.3.1' }, { Name: 'Conmon', Version: 'conmon version 2.1.6' }, { Name: 'OCI Runtime (runc)', Version: 'runc 1.1.5' }],
};

describe('which engine answers', () => {
  it('recognises podman by its components and takes anything else for dockerd', () => {
    expect(engineKindOf(PODMAN)).toBe('podman');
    expect(engineKindOf(DOCKERD)).toBe('docker');
    expect(engineKindOf({})).toBe('docker');
    expect(engineKindOf({ Components: [], Platform: { Name: 'Podman Engine' } })).toBe('podman');
  });

  it('unpauses around stops and network changes on podman only', () => {
    expect(differencesOf('podman')).toMatchObject({ unpauseBeforeStop: true, unpauseAroundNetworkChange: true });
    expect(differencesOf('docker')).toMatchObject({ unpauseBeforeStop: false, unpauseAroundNetworkChange: false });
  });

  it("filters events by each engine's own action names (podman: died)", () => {
    expect(differencesOf('docker').eventFilter).toEqual(['start', 'die', 'pause', 'unpause', 'oom']);
    expect(differencesOf('podman').eventFilter).toEqual(['start', 'died', 'pause', 'unpause', 'oom']);
    const died = (action: string): EngineEvent => ({ Type: 'container', Action: action, Actor: { ID: 'x', Attributes: {} }, time: 1, timeNano: 1 });
    const out = { oomSeen: false, requested: false };
    expect(mapEngineEvent(died('die'), out)).toEqual({ kind: 'STOPPED', power: 'SHUTDOWN' });
    expect(mapEngineEvent(died('died'), out)).toEqual({ kind: 'STOPPED', power: 'SHUTDOWN' });
    expect(mapEngineEvent(died('died'), { ...out, oomSeen: true })).toEqual({ kind: 'CRASHED', power: 'CRASHED' });
  });

  it('reads "not running" from both engines\' answers to a kill (dockerd 409, podman 500), and nothing else', () => {
    expect(isNotRunningAnswer(409, 'Cannot kill container: abc: Container abc is not running')).toBe(true);
    expect(isNotRunningAnswer(500, 'can only kill running containers. abc is in state exited: container state improper')).toBe(true);
    expect(isNotRunningAnswer(404, 'No such container: abc')).toBe(false);
    expect(isNotRunningAnswer(500, 'OCI runtime error')).toBe(false);
  });

  it('reads "network still in use" from both engines: dockerd 403/409, podman 500 with its message', () => {
    expect(isNetworkInUse(403, 'error while removing network: network x id y has active endpoints')).toBe(true);
    expect(isNetworkInUse(409, 'network has active endpoints')).toBe(true);
    expect(isNetworkInUse(500, '"nova-net-a" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used')).toBe(true);
    expect(isNetworkInUse(500, 'some other failure')).toBe(false);
    expect(isNetworkInUse(404, 'network not found')).toBe(false);
  });
});

describe('commit labels', () => {
  it('go in the request body on dockerd and as LABEL changes on podman', () => {
    expect(differencesOf('docker').commitLabelsAsChanges).toBe(false);
    expect(differencesOf('podman').commitLabelsAsChanges).toBe(true);
  });

  it('are percent-encoded inside LABEL changes, so a caller string cannot end the instruction or add one', () => {
    expect(labelChanges({ 'io.nova-common.kind': 'snapshot', 'io.nova-common.owner': 'ci_1.x-y' })).toEqual([
      'LABEL io.nova-common.kind="snapshot"',
      'LABEL io.nova-common.owner="ci_1.x-y"',
    ]);
    const [change] = labelChanges({ 'io.nova-common.snapshot-name': 'a" io.nova-common.owner="evil\\\nLABEL x=y é' });
    expect(change).toBe('LABEL io.nova-common.snapshot-name="a%22%20io.nova-common.owner%3D%22evil%5C%0ALABEL%20x%3Dy%20%C3%A9"');
    expect(change!.match(/"/g)).toHaveLength(2);
    expect(change).not.toMatch(/[\n\\]/);
    expect(() => labelChanges({ 'bad key': 'v' })).toThrow(/LABEL/);
  });
});

describe('mounted paths from an inspect', () => {
  it('reads dockerd (HostConfig.Mounts) and podman (top-level Mounts only, Binds strings) alike', () => {
    const docker = {
      HostConfig: { Mounts: [{ Target: '/volumes/a' }], Devices: [{ PathInContainer: '/dev/nova-vol-b' }] },
      Mounts: [{ Destination: '/volumes/a' }],
    };
    const podman = {
      HostConfig: { Devices: [{ PathInContainer: '/dev/nova-vol-b' }] },
      Mounts: [{ Destination: '/volumes/a' }],
    };
    expect([...mountedTargets(docker)].sort()).toEqual(['/dev/nova-vol-b', '/volumes/a']);
    expect([...mountedTargets(podman)].sort()).toEqual(['/dev/nova-vol-b', '/volumes/a']);
    expect([...mountedTargets({ HostConfig: { Mounts: null, Devices: null }, Mounts: null })]).toEqual([]);
  });
});
