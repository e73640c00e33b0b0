import { readFileSync } from 'node:fs';
import { EngineClient } from '../src/client/engine-client.js';
import { listVolumes } from '../src/client/transfer.js';

// What the migration tests (migration, migration-faults, evacuate) read and write on the engines directly.

const PREFIX = 'nova-';

/** A one-file tar (ustar), to write a file into a container's filesystem through the archive endpoint (no exec). */
function tarOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s.padEnd(len, '\0').slice(0, len), off, 'latin1');
  put(name, 0, 100);
  put('0000644', 100, 8);
  put('0000000', 108, 8);
  put('0000000', 116, 8);
  put(data.length.toString(8).padStart(11, '0'), 124, 12);
  put(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0'), 136, 12);
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

/** Write `dir/name` into the instance's container (default naming). */
export async function writeFileIn(client: EngineClient, uuid: string, dir: string, name: string, content: string): Promise<void> {
  await client.request('PUT', `/containers/${PREFIX}${uuid}/archive`, { query: { path: dir }, rawBody: { data: tarOf(name, content), contentType: 'application/x-tar' } });
}

/** Read one file of the instance's container. */
export async function readFileIn(client: EngineClient, uuid: string, file: string): Promise<string> {
  const tar = await client.bytes(`/containers/${PREFIX}${uuid}/archive`, { path: file });
  const size = parseInt(tar.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  return tar.subarray(512, 512 + size).toString('utf8');
}

export async function inspectOf(client: EngineClient, uuid: string) {
  return client.inspectContainer(`${PREFIX}${uuid}`);
}

/**
 * What an engine holds of an instance: containers (any name, any state) carrying its uuid, images of the
 * owner carrying it or named after it (state and transfer images, tagged or not), and volumes carrying it
 * (a migration's reservation).
 */
export async function tracesOf(client: EngineClient, owner: string, uuid: string): Promise<string[]> {
  const containers = await client.listContainers({ label: [`io.nova-common.uuid=${uuid}`] });
  const images = (await client.listImages({})).filter(
    (i) => (i.Labels?.['io.nova-common.owner'] === owner && i.Labels?.['io.nova-common.uuid'] === uuid) || (i.RepoTags ?? []).some((t) => t.includes(uuid)),
  );
  const volumes = await listVolumes(client, { label: [`io.nova-common.uuid=${uuid}`] });
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...images.map((i) => `image ${i.RepoTags?.join(',') || i.Id}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

/** SIGKILL an engine's daemon (the pid its backend script recorded) and wait until its socket no longer answers. */
export async function killEngine(pidFile: string, socketPath: string): Promise<void> {
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no daemon pid in ${pidFile}`);
  process.kill(pid, 'SIGKILL');
  const probe = new EngineClient({ socketPath, connectTimeoutMs: 500, requestTimeoutMs: 500 });
  try {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      if (!(await probe.request('GET', '/_ping').then(() => true, () => false))) return;
    }
    throw new Error(`the engine on ${socketPath} still answers after SIGKILL`);
  } finally {
    await probe.close();
  }
}
