import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const RecordSchema = z.object({
  volumeId: z.uuid(),
  /** The file the volume is (real path, checked inside the roots; a network volume's exported file). */
  path: z.string(),
  /** The loop device the connector attached, when it made one. */
  device: z.string().optional(),
  /** A network volume: where it comes from (e.g. `iscsi://portal/iqn/lun`), and the daemon that serves it at `path`. */
  target: z.string().optional(),
  pid: z.number().int().positive().optional(),
});
export type ConnectionRecord = z.infer<typeof RecordSchema>;

/**
 * What a connector has connected, one small JSON file per volume in its state directory, so
 * a restarted connector (or agent) still knows what is its own and can disconnect it. The
 * file name is the volume's canonical uuid, never a caller's string. Writes go to a temporary
 * file renamed into place, so a crash leaves the old record or the new one, never half of one.
 * One process owns a state directory (the host's agent); calls on one volume are serialised
 * by the plug guard.
 */
export class ConnectionRecords {
  constructor(private readonly dir: string) {}

  private file(volumeId: string): string {
    return join(this.dir, `${z.uuid().parse(volumeId).toLowerCase()}.json`);
  }

  async get(volumeId: string): Promise<ConnectionRecord | undefined> {
    try {
      return RecordSchema.parse(JSON.parse(await readFile(this.file(volumeId), 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(record: ConnectionRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(record.volumeId);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
    await rename(temporary, target);
  }

  async remove(volumeId: string): Promise<void> {
    await rm(this.file(volumeId), { force: true });
  }

  async all(): Promise<ConnectionRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: ConnectionRecord[] = [];
    for (const name of names) {
      const m = /^([0-9a-f-]{36})\.json$/.exec(name);
      if (m === null) continue;
      const record = await this.get(m[1]!);
      if (record !== undefined) out.push(record);
    }
    return out;
  }
}
