import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Vif } from '@nova-common/core';

/** One VIF of an instance wired by the VIF plugin, and the name its device gets inside the container. */
export interface VifEntry {
  vif: Vif;
  ifname: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The VIFs of each instance when a VIF plugin wires them, kept on the host: the engine cannot hold
 * them (labels cannot change when an interface is attached later, and a container with network mode
 * none has no endpoints to carry them). One JSON file per instance, `<stateDir>/<engine>/<owner>/vifs/<uuid>.json`
 * (`<engine>` as the stop records'), written atomically; read on every start (the plug is made for
 * each run of the container) and by getInfo, so the list survives driver and engine restarts.
 */
export class VifRecords {
  private dir: string | undefined;

  constructor(private readonly stateDir: string, private readonly ownerId: string) {}

  async open(engineRootDir: string): Promise<void> {
    const engine = createHash('sha256').update(engineRootDir).digest('hex').slice(0, 16);
    this.dir = path.join(this.stateDir, engine, this.ownerId, 'vifs');
    await mkdir(this.dir, { recursive: true });
  }

  async get(uuid: string): Promise<VifEntry[]> {
    try {
      return (JSON.parse(await readFile(this.fileOf(uuid), 'utf8')) as { vifs: VifEntry[] }).vifs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async has(uuid: string): Promise<boolean> {
    return readFile(this.fileOf(uuid)).then(
      () => true,
      () => false,
    );
  }

  async put(uuid: string, vifs: readonly VifEntry[]): Promise<void> {
    const file = this.fileOf(uuid);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ vifs }));
    await rename(tmp, file);
  }

  async forget(uuid: string): Promise<void> {
    await rm(this.fileOf(uuid), { force: true });
  }

  /** The uuids with a record written more than `ageSeconds` ago. */
  async uuids(ageSeconds = 0): Promise<string[]> {
    if (this.dir === undefined) return [];
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: string[] = [];
    for (const uuid of names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5))) {
      if (!UUID.test(uuid)) continue;
      const written = await stat(this.fileOf(uuid)).then((s) => s.mtimeMs, () => undefined);
      if (written !== undefined && Date.now() - written >= ageSeconds * 1000) out.push(uuid);
    }
    return out;
  }

  private fileOf(uuid: string): string {
    if (this.dir === undefined) throw new Error('VIF records used before initHost');
    if (!UUID.test(uuid)) throw new Error(`not an instance uuid: ${uuid}`);
    return path.join(this.dir, `${uuid}.json`);
  }
}

/** The name of the next interface inside the container: the lowest eth<N> no recorded VIF (nor any device in `present`) uses. */
export function nextIfname(entries: readonly VifEntry[], present: readonly string[] = []): string {
  const used = new Set([...entries.map((e) => e.ifname), ...present]);
  for (let n = 0; ; n++) if (!used.has(`eth${n}`)) return `eth${n}`;
}
