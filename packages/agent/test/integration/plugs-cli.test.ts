import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRemoteVolumeConnector } from '../../src/client/remote-plugs.js';
import { runAgent, runToEnd } from '../helpers/cli.js';
import { tempDir } from '../helpers/serve.js';

describe('nova-agent serve with plugs', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  function dir(): string {
    const d = tempDir();
    cleanups.push(d.remove);
    return d.dir;
  }

  it('loads a volume connector by package and factory with its JSON configuration, and serves it to the volume role', async () => {
    const d = dir();
    const root = join(d, 'volumes');
    mkdirSync(root);
    writeFileSync(join(d, 'connector.json'), JSON.stringify({ roots: [root], stateDir: join(d, 'state') }));
    const running = await runAgent([
      '--driver', '@nova-common/core/testing',
      '--listen-role', `volume=unix://${d}/volume.sock`,
      '--volume-connector', '@nova-common/plugs#createFileConnector',
      '--volume-connector-config', join(d, 'connector.json'),
      '--log-level', 'warn',
    ]);
    cleanups.push(() => (running.child.exitCode === null ? running.stop('SIGKILL') : undefined));
    const connector = await openRemoteVolumeConnector({ endpoint: `unix://${d}/volume.sock` });
    try {
      expect(connector.transports).toStrictEqual(['file']);
      const path = join(root, 'v.img');
      writeFileSync(path, '');
      truncateSync(path, 1024 * 1024);
      const volumeId = '9c3e5a7b-1f2d-4c6e-8a0b-2d4f6a8c0e01';
      expect(await connector.connect(volumeId, { driverVolumeType: 'file', path })).toStrictEqual({ volumeId, kind: 'file', path, sizeBytes: 1024 * 1024 });
      await connector.disconnect(volumeId, { driverVolumeType: 'file', path });
      expect(await connector.listConnected()).toStrictEqual([]);
    } finally {
      connector.close();
    }
    expect(await running.stop()).toBe(0);
  });

  it('refuses to start (exit 2, nothing served) when a plug does not load or its options do not go together', async () => {
    const d = dir();
    const listen = ['--driver', '@nova-common/core/testing', '--listen', `unix://${d}/agent.sock`];
    const noFactory = await runToEnd(['serve', ...listen, '--vif-plugin', '@nova-common/plugs#createNothing']);
    expect(noFactory.code).toBe(2);
    expect(noFactory.stderr).toMatch(/exports no function createNothing .*createVethPlugin/);
    const notInstalled = await runToEnd(['serve', ...listen, '--volume-connector', '@nova-common/no-such-plugs#create']);
    expect(notInstalled.code).toBe(2);
    expect(notInstalled.stderr).toContain('@nova-common/no-such-plugs is not installed');
    const lonelyConfig = await runToEnd(['serve', ...listen, '--vif-plugin-config', join(d, 'x.json')]);
    expect(lonelyConfig.code).toBe(2);
    expect(lonelyConfig.stderr).toContain('--vif-plugin-config needs --vif-plugin');
    const wrongKind = await runToEnd(['serve', ...listen, '--vif-plugin', '@nova-common/plugs#createFileConnector']);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('createFileConnector did not answer a VIF plugin (missing vifTypes, plug, unplug, listPlugged)');
    writeFileSync(join(d, 'bad.json'), '{');
    const badJson = await runToEnd(['serve', ...listen, '--volume-connector', '@nova-common/plugs#createFileConnector', '--volume-connector-config', join(d, 'bad.json')]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('is not valid JSON');
  });
});
