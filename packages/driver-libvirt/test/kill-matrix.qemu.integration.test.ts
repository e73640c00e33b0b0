import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKillMatrix, runKillMatrix } from '@nova-common/conformance';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import { requireGuest, requireLibvirtd } from './helpers/backend.js';
import { guestSpec, qemuConfig } from './helpers/qemu.js';

/**
 * The standing fault matrix on libvirt with QEMU guests: libvirtd SIGKILLed during spawn,
 * destroy, power and device calls, at the call's start and half way through, then started
 * again (QEMU guests outlive the daemon). Each cell checks what a caller of a crashed backend
 * is promised: a typed retryable answer, a retry that converges from a new driver session,
 * the driver and libvirtd agreeing, and nothing of the instance left after sweep.
 */
const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../scripts/backends/libvirt.sh', import.meta.url));
const PID_FILE = '/tmp/nova-common/libvirt/libvirtd.pid';

// Short keepalive and call deadlines: a dead daemon is noticed in about 2 s, not the defaults' 30 s.
const config = LibvirtDriverConfigSchema.parse(qemuConfig('killm-', { callTimeoutMs: 10_000, keepaliveIntervalMs: 500, keepaliveCount: 3, acpiShutdownTimeoutMs: 3_000 }));
const fixtures = libvirtConformanceFixtures(config);

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
});

afterAll(async () => {
  await run(SCRIPT, ['start'], { timeout: 90_000 }).catch(() => undefined);
  await fixtures.cleanup?.();
});

describe('kill matrix: libvirtd killed mid-call (QEMU)', () => {
  it('every interrupted call answers a retryable error or succeeds, its retry converges, and sweep leaves nothing', async () => {
    const cells = await runKillMatrix({
      backend: 'libvirt (QEMU/TCG)',
      createDriver: () => createLibvirtDriver(config),
      killBackend: async () => {
        const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
        if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no libvirtd pid in ${PID_FILE}`);
        process.kill(pid, 'SIGKILL');
      },
      startBackend: async () => void (await run(SCRIPT, ['start'], { timeout: 90_000 })),
      witness: fixtures.witness!,
      spec: (uuid) => guestSpec({ uuid }),
      volume: async () => {
        const volumeId = crypto.randomUUID();
        return { volumeId, connectionInfo: await fixtures.volumeConnection!(volumeId) };
      },
      operations: ['spawn', 'destroy', 'powerOff', 'powerOn', 'reboot', 'attachVolume', 'detachVolume'],
      guardOptions: { timeouts: { spawn: 60_000, destroy: 60_000, powerOff: 60_000, powerOn: 60_000, reboot: 60_000, attachVolume: 60_000, detachVolume: 60_000 } },
    });
    console.log(renderKillMatrix('libvirt (QEMU/TCG)', cells));
    expect(cells.filter((c) => c.failure !== undefined).map((c) => `${c.operation}@${c.killAt}: ${c.failure}`)).toEqual([]);
  }, 900_000);
});
