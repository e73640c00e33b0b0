import type { VolumeAttachment } from '../schemas/block-device-info.js';
import type { Flavor } from '../schemas/flavor.js';
import type { ImageMeta } from '../schemas/image-meta.js';
import type { InstanceInfo, InstanceSummary } from '../schemas/instance-info.js';
import type { Vif } from '../schemas/network-info.js';
import { powerStateOf, type SemanticState } from '../semantics/states.js';
import type { ReferenceNode, Usage } from './nodes.js';
import { copyMetadata } from './validate.js';

export type ExistingState = Exclude<SemanticState, 'ABSENT'>;

/** One instance, as the reference driver holds it. Never handed out: callers get copies. */
export interface InstanceRecord {
  /** The uuid as given to spawn (identity is case-insensitive; see ReferenceComputeDriver). */
  readonly uuid: string;
  readonly name: string;
  readonly node: ReferenceNode;
  readonly flavor: Flavor;
  /** expectedUsage(flavor), counted on `node` while the instance exists. */
  readonly usage: Usage;
  state: ExistingState;
  image: ImageMeta;
  metadata: Record<string, string>;
  /** Booted from this image while in RESCUE. */
  rescueImage: ImageMeta | undefined;
  /** Keyed by lower-case volume id. */
  readonly volumes: Map<string, VolumeAttachment>;
  /** Keyed by lower-case interface id. */
  readonly interfaces: Map<string, Vif>;
  readonly console: string[];
  consoleTruncated: boolean;
}

function byId<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

const byVolumeId = byId<{ volumeId: string }>((v) => v.volumeId);
const byInterfaceId = byId<{ id: string }>((i) => i.id);

/** getInfo's answer: a fresh object, devices sorted by id (code-unit order). */
export function toInfo(r: InstanceRecord): InstanceInfo {
  const volumes = [...r.volumes.values()]
    .map((v) => ({
      volumeId: v.volumeId,
      ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
      ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
    }))
    .sort(byVolumeId);
  const interfaces = [...r.interfaces.values()].map((i) => ({ id: i.id, address: i.address })).sort(byInterfaceId);
  return {
    uuid: r.uuid,
    name: r.name,
    powerState: powerStateOf(r.state),
    mode: r.state === 'RESCUE' ? 'rescue' : 'normal',
    node: r.node.id,
    metadata: copyMetadata(r.metadata),
    volumes,
    interfaces,
  };
}

export function toSummary(r: InstanceRecord): InstanceSummary {
  return { uuid: r.uuid, name: r.name, node: r.node.id, metadata: copyMetadata(r.metadata) };
}

/** Append a console line, keeping at most `limit` lines. */
export function appendConsole(r: InstanceRecord, line: string, limit: number): void {
  r.console.push(line);
  if (r.console.length > limit) {
    r.console.splice(0, r.console.length - limit);
    r.consoleTruncated = true;
  }
}
