/**
 * A tiny in-memory backend: the stand-in for the API your driver will talk to. Replace it
 * with a client of the real thing (keep wire code in src/client/, mapping in src/mapping/).
 *
 * Like a real backend it outlives any one driver object: every driver made with the same
 * `backend` name sees the same machines, so a restarted process (or the conformance suite's
 * fresh driver per sequence) finds, reports and destroys what an earlier one made.
 */

/** One machine as the backend stores it. */
export interface Machine {
  readonly uuid: string;
  readonly name: string;
  /** Who made it: drivers list and destroy only their own (R-LIST-OWNED). */
  readonly owner: string;
  readonly node: string;
  /** Resources it consumes, by resource class. */
  readonly usage: Readonly<Record<string, number>>;
  running: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly interfaces: ReadonlyArray<{ readonly id: string; readonly address: string }>;
  readonly volumes: ReadonlyArray<{ readonly volumeId: string; readonly deviceName?: string; readonly sizeGb?: number }>;
}

export class MemoryBackend {
  private static readonly open = new Map<string, MemoryBackend>();
  private readonly machines = new Map<string, Machine>();

  /** The backend called `name`, made on first use (as connecting to a running service). */
  static connect(name: string): MemoryBackend {
    let backend = MemoryBackend.open.get(name);
    if (backend === undefined) {
      backend = new MemoryBackend();
      MemoryBackend.open.set(name, backend);
    }
    return backend;
  }

  get(uuid: string): Machine | undefined {
    const m = this.machines.get(uuid);
    return m === undefined ? undefined : copy(m);
  }

  list(): Machine[] {
    return [...this.machines.values()].map(copy);
  }

  create(machine: Machine): void {
    if (this.machines.has(machine.uuid)) throw new Error(`machine ${machine.uuid} exists`);
    this.machines.set(machine.uuid, copy(machine));
  }

  remove(uuid: string): void {
    this.machines.delete(uuid);
  }
}

function copy(m: Machine): Machine {
  return {
    ...m,
    usage: { ...m.usage },
    metadata: { ...m.metadata },
    interfaces: m.interfaces.map((i) => ({ ...i })),
    volumes: m.volumes.map((v) => ({ ...v })),
  };
}
