import type { ConnectionInfo, ImageMetaInput } from '@nova-common/core';
import { RUN_ID_KEY, type ResolvedOptions } from '../config.js';
import type { Pools } from '../model/arbitraries.js';
import type { Model } from '../model/model.js';
import type { ArgumentSource, DeviceWant } from './arguments.js';
import type { Produced } from './call.js';

/**
 * Where the argument generators take their values (see ArgumentSource): the generated
 * sequences' pools, or the fixed ids of the table walk and the UNSUPPORTED checks.
 */

/** A pick's bits, spent one choice at a time: deterministic, and 0 (the plain choices) when shrunk. */
class Choices {
  private rest: number;
  constructor(pick: number) {
    this.rest = Math.floor(pick / 2);
  }

  next(n: number): number {
    if (n <= 1) return 0;
    const v = this.rest % n;
    this.rest = Math.floor(this.rest / n);
    return v;
  }
}

/** The ids of a generated sequence: its pools, judged against the model (devices are never another instance's to attach). */
export class SequenceSource implements ArgumentSource {
  readonly right: boolean;
  private readonly choices: Choices;

  constructor(
    private readonly model: Model,
    private readonly pools: Pools,
    private readonly uuid: string,
    pick: number,
    private readonly options: ResolvedOptions,
    private readonly text: string,
    private readonly newMetadata: Record<string, string> | undefined,
  ) {
    this.right = (pick & 1) === 0;
    this.choices = new Choices(pick);
  }

  choose(n: number): number {
    return this.choices.next(n);
  }

  private pickOf<T>(list: readonly T[]): T | undefined {
    return list.length === 0 ? undefined : list[this.choose(list.length)];
  }

  volume(want: DeviceWant): string | undefined {
    const inst = this.model.get(this.uuid);
    if (want === 'attached') return this.pickOf(inst ? [...inst.volumes.keys()] : []);
    return this.pickOf(this.pools.volumes.filter((v) => (want === 'free' ? this.model.volumeOwner(v) === undefined : !inst?.volumes.has(v))));
  }

  volumeSize(volumeId: string): number | undefined {
    return this.model.get(this.uuid)?.volumes.get(volumeId);
  }

  vif(want: DeviceWant): { id: string; address: string } | undefined {
    const inst = this.model.get(this.uuid);
    const pool = this.pools.vifs;
    if (want === 'attached') return this.pickOf(pool.filter((v) => inst?.interfaces.has(v.id) === true));
    return this.pickOf(pool.filter((v) => (want === 'free' ? this.model.interfaceOwner(v.id) === undefined : !inst?.interfaces.has(v.id))));
  }

  image(): ImageMetaInput {
    return this.options.images[this.choose(this.options.images.length)]!;
  }

  snapshot(): string | Produced {
    const n = this.model.snapshots.length;
    const i = this.choose(n + 1);
    return i < n ? { produced: i } : `${this.options.runId}-no-such-image`;
  }

  name(what: string): string {
    return `${this.options.runId}-${what}-${this.text}`;
  }

  metadata(): Record<string, string> | undefined {
    return this.newMetadata === undefined ? undefined : { ...this.newMetadata, [RUN_ID_KEY]: this.options.runId };
  }

  connection(volumeId: string): ConnectionInfo | Promise<ConnectionInfo> {
    return this.options.volumeConnection(volumeId);
  }
}

export interface FixedIds {
  /** Why the ids exist: names and snapshot names carry it (`walk`, `unsupported`). */
  purpose: string;
  volume: string;
  vif: { id: string; address: string };
  /** The model, when the script follows one (the walk): it tells which devices are attached. */
  model?: Model;
  uuid: string;
  /** Snapshots the script produced so far. */
  snapshots?: () => number;
  /** Metadata for a rebuild, if it replaces it. */
  metadata?: Record<string, string>;
}

/**
 * The fixed scripts' ids: always the plain choice, one volume and one interface of their own.
 * With a model, a device wanted `attached` that is not may be another one the instance has
 * (so a resize finds a volume to grow after its own was detached).
 */
export class FixedSource implements ArgumentSource {
  constructor(
    private readonly ids: FixedIds,
    private readonly options: ResolvedOptions,
    readonly right = true,
  ) {}

  choose(): number {
    return 0;
  }

  private has(kind: 'volumes' | 'interfaces', id: string): boolean {
    return this.ids.model?.get(this.ids.uuid)?.[kind].has(id) ?? false;
  }

  private fixed<T>(kind: 'volumes' | 'interfaces', own: T, id: string, want: DeviceWant, other: (ids: string[]) => T | undefined): T | undefined {
    const attached = this.has(kind, id);
    if (want !== 'attached') return attached ? undefined : own;
    if (attached) return own;
    const inst = this.ids.model?.get(this.ids.uuid);
    return inst ? other([...inst[kind].keys()]) : undefined;
  }

  volume(want: DeviceWant): string | undefined {
    return this.fixed('volumes', this.ids.volume, this.ids.volume, want, (ids) => ids[0]);
  }

  volumeSize(volumeId: string): number | undefined {
    return this.ids.model?.get(this.ids.uuid)?.volumes.get(volumeId);
  }

  vif(want: DeviceWant): { id: string; address: string } | undefined {
    const inst = this.ids.model?.get(this.ids.uuid);
    return this.fixed('interfaces', this.ids.vif, this.ids.vif.id, want, (ids) => (ids[0] === undefined ? undefined : { id: ids[0], address: inst!.interfaces.get(ids[0])! }));
  }

  image(): ImageMetaInput {
    return this.options.images[0]!;
  }

  snapshot(): string | Produced {
    const n = this.ids.snapshots?.() ?? 0;
    return this.right && n > 0 ? { produced: n - 1 } : `${this.options.runId}-no-such-image`;
  }

  name(what: string): string {
    return `${this.options.runId}-${what}-${this.ids.purpose}`;
  }

  metadata(): Record<string, string> | undefined {
    return this.ids.metadata;
  }

  connection(volumeId: string): ConnectionInfo | Promise<ConnectionInfo> {
    return this.options.volumeConnection(volumeId);
  }
}
