/**
 * The standing fault matrix on Ironic: the Ironic process (API and conductor) SIGKILLed during
 * spawn, destroy and power calls, at the call's start and half way through, then started again
 * keeping its database (`ironic.sh restart`). Each cell checks what a caller of a crashed backend
 * is promised (see runKillMatrix in @nova-common/conformance): a typed retryable answer, a retry
 * that converges from a new driver session, the driver and Ironic's node list agreeing, and no
 * node left holding the instance after sweep. Bare metal has no volume calls here (declared
 * missing), so the device column is the other backends'.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderKillMatrix, runKillMatrix } from '@nova-common/conformance';
import { IronicDriverConfigSchema } from '../../src/config.js';
import { ironicWitness } from '../../src/witness.js';
import { ENDPOINTS, requireIronic, testDriver } from '../helpers/ironic-env.js';
import { spec } from '../helpers/specs.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../../scripts/backends/ironic.sh', import.meta.url));
const PID_FILE = '/tmp/nova-common/ironic/default/ironic.pid';
// A dead Ironic is reported after 5 s of outage inside a wait (the default budget is a minute).
const OVER = { outageBudgetMs: 5_000 };

beforeAll(async () => {
  await requireIronic('default');
});

describe('kill matrix: Ironic killed mid-call', () => {
  it('every interrupted call answers a retryable error or succeeds, its retry converges, and sweep leaves nothing', async () => {
    const witness = ironicWitness(IronicDriverConfigSchema.parse({ endpoint: ENDPOINTS.default, imageSourceTemplate: 'file:///tmp/nova-common/ironic/images/{id}.img', nodeFilter: { resourceClass: 'baremetal' } }));
    try {
      const cells = await runKillMatrix({
        backend: 'Ironic (fake hardware)',
        createDriver: () => testDriver('default', OVER),
        killBackend: async () => {
          const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
          if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no Ironic pid in ${PID_FILE}`);
          process.kill(pid, 'SIGKILL');
        },
        startBackend: async () => void (await run(SCRIPT, ['restart', 'default'], { timeout: 180_000 })),
        witness,
        spec: (uuid) => spec({ uuid }),
        operations: ['spawn', 'destroy', 'powerOff', 'powerOn', 'reboot'],
        convergeWithinMs: 180_000,
        guardOptions: { timeouts: { spawn: 120_000, destroy: 120_000, powerOff: 120_000, powerOn: 120_000, reboot: 120_000 } },
      });
      console.log(renderKillMatrix('Ironic (fake hardware)', cells));
      expect(cells.filter((c) => c.failure !== undefined).map((c) => `${c.operation}@${c.killAt}: ${c.failure}`)).toEqual([]);
    } finally {
      await witness.close?.();
    }
  }, 1_800_000);
});
