import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerInspect } from '../client/types.js';

type Run = Pick<ContainerInspect, 'Id'> & { State: Pick<ContainerInspect['State'], 'StartedAt'> };

/**
 * The runs the driver asked to stop, kept on the host because the engine cannot hold them: labels
 * cannot change on a container, and the engine's state says how a run ended (exit code, OOM kill)
 * but not who ended it. A driver's forced stop (a SIGKILL: power off of a paused instance, a hard
 * reboot, a guest that ignores SIGTERM) ends like a crash; this record is what tells them apart,
 * also after the driver or the engine restarts.
 *
 * One file per container, `<stateDir>/<engine>/<owner>/<container id>`, holding the `StartedAt` of the
 * run the driver asked to stop (or whose crash it acknowledged, by power off or restoreState SHUTDOWN
 * of a CRASHED instance). A later start makes a new run, so an old record never covers it. `<engine>`
 * is a digest of the engine's root directory, so drivers of two engines on one host never prune each
 * other's records.
 */
export class StopRecords {
  private dir: string | undefined;

  constructor(private readonly stateDir: string, private readonly ownerId: string) {}

  /** Bind the records to the connected engine (initHost), and make their directory. */
  async open(engineRootDir: string): Promise<void> {
    const engine = createHash('sha256').update(engineRootDir).digest('hex').slice(0, 16);
    this.dir = path.join(this.stateDir, engine, this.ownerId);
    await mkdir(this.dir, { recursive: true });
  }

  /** Before the driver stops a run, or when it acknowledges a crashed one: that run reads SHUTDOWN however it ended. */
  async note(run: Run): Promise<void> {
    const file = this.fileOf(run.Id);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, run.State.StartedAt);
    await rename(tmp, file);
  }

  /** Whether the driver asked this run of the container to stop. */
  async asked(run: Run): Promise<boolean> {
    try {
      return (await readFile(this.fileOf(run.Id), 'utf8')) === run.State.StartedAt;
    } catch {
      return false;
    }
  }

  /** The container is gone: its record goes too. */
  async forget(containerId: string): Promise<void> {
    await rm(this.fileOf(containerId), { force: true });
  }

  /** Remove the records of containers that no longer exist (`exists` answers for one id). */
  async prune(exists: (containerId: string) => Promise<boolean>): Promise<void> {
    if (this.dir === undefined) return;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      if (!(await exists(name))) await this.forget(name);
    }
  }

  private fileOf(containerId: string): string {
    if (this.dir === undefined) throw new Error('stop records used before initHost');
    if (!/^[0-9a-f]{64}$/.test(containerId)) throw new Error(`not a container id: ${containerId}`);
    return path.join(this.dir, containerId);
  }
}
