import type { ConnectionInfo, Flavor } from '@nova-common/core';

/** One disk the driver made for the instance (ephemeral or swap), kept to regenerate the XML. */
export interface LocalDiskRecord {
  kind: 'ephemeral' | 'swap';
  target: string;
  bus: string;
  sizeMb: number;
}

/** One attached volume, as the driver recorded it. */
export interface VolumeRecord {
  id: string;
  target: string;
  bus: string;
  source: 'file' | 'block';
  path: string;
  sizeGb?: number;
  /** The device name the caller asked for, reported back as given. */
  deviceName?: string;
  deleteOnTermination: boolean;
  /**
   * With a volume connector: the connection info the connector connected (`path` is then the
   * file or device it answered), kept so a detach or destroy, even after a restart, disconnects it.
   */
  connection?: ConnectionInfo;
}

/** One attached interface, as the driver recorded it. */
export interface InterfaceRecord {
  id: string;
  /** Lower-case MAC, as libvirt reports it. */
  mac: string;
  model: string;
  /** The MAC as the caller wrote it, reported back unchanged. */
  address?: string;
  /** The host bridge the VIF's tap joins (the VIF's network.bridge); absent: QEMU user-mode network. */
  bridge?: string;
  /** The network's MTU, given to the tap and the guest's virtio NIC. */
  mtu?: number;
  /** The tap device's name (the VIF's devname). */
  devname?: string;
  /**
   * With a VIF plugin: the host device (a tap) the plugin plugged for this VIF, which the
   * guest's NIC opens (`<interface type='ethernet'>`). Absent: libvirt wires the VIF itself.
   */
  plugged?: string;
  /** With a VIF plugin: the VIF's type and network id, kept so the VIF can be unplugged later. */
  vifType?: string;
  networkId?: string;
}

export interface ImageRecord {
  id: string;
  diskFormat: string;
  containerFormat: string;
  diskBus: string;
  vifModel: string;
  machine?: string;
  /** The image's os_type: a Windows guest keeps its clock in local time. */
  osType?: string;
}

/**
 * Everything the driver keeps about an instance, stored in the domain's <metadata> under
 * its own namespace: the ownership marker, the spawning session, the user's name and metadata,
 * and the plan the domain XML is generated from.
 */
export interface InstanceRecord {
  uuid: string;
  /** The domain name prefix of the driver that owns it (part of the ownership marker). */
  ownerPrefix: string;
  /**
   * The driver session that spawned it, and when (ISO time): the sweep removes a transient
   * domain (a spawn that did not finish) of its own session, or of another once it is old.
   */
  session: string;
  since: string;
  /**
   * The process that spawned it (core's currentHolder): the sweep removes another session's
   * half-made domain at once when that process has certainly died. Absent in domains of older
   * drivers, and where /proc cannot say.
   */
  holder?: string;
  mode: 'normal' | 'rescue';
  name: string;
  flavor: Flavor;
  image: ImageRecord;
  /** In rescue mode: the rescue image. */
  rescueImage?: ImageRecord;
  metadata: Record<string, string>;
  localDisks: LocalDiskRecord[];
  volumes: VolumeRecord[];
  interfaces: InterfaceRecord[];
}

export const METADATA_NS = 'urn:nova-common:libvirt:instance:1';
export const METADATA_KEY = 'nova';
export const OWNER_MARKER = 'nova-common/driver-libvirt';
