/**
 * fast-check arbitraries for core's input data: every value they produce must be accepted
 * by the zod schemas (the property tests check exactly that). They build the *input* form
 * (fields with defaults are sometimes left out), as a caller would hand it to a driver.
 */
import fc from 'fast-check';
import type { FlavorInput, ImageMetaInput, InstanceSpecInput, VifInput, VolumeAttachmentInput } from '../src/index.js';

type ArbValue<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** An object with the required keys always present and each optional key present or absent. */
function record<R extends Record<string, fc.Arbitrary<unknown>>, O extends Record<string, fc.Arbitrary<unknown>>>(
  required: R,
  optional: O,
): fc.Arbitrary<{ [K in keyof R]: ArbValue<R[K]> } & { [K in keyof O]?: ArbValue<O[K]> }> {
  const requiredKeys = Object.keys(required);
  return fc.record({ ...required, ...optional }, { requiredKeys }) as never;
}

const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Any UUID version 1..8 with the RFC variant (what z.uuid() accepts). */
export const uuidArb = fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] });

/** Identifiers: 1..255 UTF-16 units, no control characters (any other code point, astral included). */
export const identifierArb = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 120 })
  .map((s) => s.replace(CONTROL, '_'));

/** User text: at most 255 UTF-16 units, anything but NUL. */
export const userStringArb = (minLength = 0): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', minLength, maxLength: 120 }).map((s) => s.replaceAll('\u0000', ' '));

export const metadataArb = fc.dictionary(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => s.replaceAll('\u0000', '-')),
  userStringArb(),
  { maxKeys: 6 },
);

export const macArb = fc.stringMatching(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/);
export const ifnameArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/);
export const deviceNameArb = fc.stringMatching(/^(\/dev\/)?[a-z]{2,4}[a-z0-9]{0,4}$/);
export const diskBusArb = fc.constantFrom('virtio', 'scsi', 'ide', 'sata', 'usb', 'fdc');

export const flavorArb: fc.Arbitrary<FlavorInput> = record(
  {
    id: identifierArb,
    name: identifierArb,
    vcpus: fc.integer({ min: 1, max: 1024 }),
    memoryMb: fc.integer({ min: 1, max: 16 * 1024 * 1024 }),
    rootGb: fc.integer({ min: 0, max: 1024 * 1024 }),
  },
  {
    ephemeralGb: fc.integer({ min: 0, max: 1024 * 1024 }),
    swapMb: fc.integer({ min: 0, max: 1024 * 1024 }),
    extraSpecs: fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 40 }), { maxKeys: 4 }),
  },
);

const hwNameArb = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);

export const imageMetaArb: fc.Arbitrary<ImageMetaInput> = record(
  {
    id: identifierArb,
    diskFormat: fc.constantFrom('raw', 'qcow2', 'vmdk', 'vdi', 'iso', 'ploop', 'vhd', 'vhdx', 'aki', 'ari', 'ami'),
    containerFormat: fc.constantFrom('bare', 'ovf', 'ova', 'aki', 'ari', 'ami', 'docker', 'compressed'),
  },
  {
    name: userStringArb(),
    minDiskGb: fc.nat({ max: 1 << 20 }),
    minRamMb: fc.nat({ max: 1 << 24 }),
    sizeBytes: fc.maxSafeNat(),
    properties: record(
      {},
      {
        hwDiskBus: diskBusArb,
        hwCdromBus: diskBusArb,
        hwVifModel: fc.constantFrom('virtio', 'e1000', 'e1000e', 'rtl8139', 'ne2k_pci', 'pcnet', 'vmxnet3'),
        hwFirmwareType: fc.constantFrom('bios', 'uefi'),
        hwMachineType: hwNameArb,
        osType: fc.constantFrom('linux', 'windows'),
        osDistro: hwNameArb,
      },
    ),
  },
);

const ipArb = fc.oneof(fc.ipV4(), fc.ipV6());
const cidrArb = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, bits]) => `${ip}/${bits}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, bits]) => `${ip}/${bits}`),
);

const subnetArb = record(
  { cidr: cidrArb },
  {
    gateway: ipArb,
    ips: fc.array(record({ address: ipArb }, { type: fc.constantFrom('fixed', 'floating') }), { maxLength: 3 }),
    dns: fc.array(ipArb, { maxLength: 3 }),
  },
);

const networkArb = record(
  { id: identifierArb },
  {
    label: identifierArb,
    bridge: ifnameArb,
    mtu: fc.integer({ min: 68, max: 65535 }),
    subnets: fc.array(subnetArb, { maxLength: 2 }),
  },
);

const smallMapArb = fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 }), { maxKeys: 3 });

export const vifArb: fc.Arbitrary<VifInput> = record(
  { id: uuidArb, address: macArb, network: networkArb },
  {
    type: fc.constantFrom('bridge', 'ovs', 'tap', 'vhostuser', 'hw_veb', 'hostdev_physical', 'macvtap', 'ethernet', 'other'),
    vnicType: fc.constantFrom('normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic'),
    profile: smallMapArb,
    details: smallMapArb,
    devname: ifnameArb,
    active: fc.boolean(),
  },
);

/** Absolute paths without `..` segments or control characters. */
export const hostPathArb = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_ .+@=-]{1,20}$/).filter((s) => s !== '..' && s !== '.'), { minLength: 1, maxLength: 6 })
  .map((parts) => `/${parts.join('/')}`);

export const connectionInfoArb = fc.oneof(
  fc.record({ driverVolumeType: fc.constant('file' as const), path: hostPathArb }),
  fc.record({ driverVolumeType: fc.constant('block' as const), devicePath: hostPathArb }),
  fc.record({
    driverVolumeType: fc.constant('iscsi' as const),
    targetPortal: fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`),
    targetIqn: fc.stringMatching(/^iqn\.[a-z0-9.:-]{1,40}$/),
    targetLun: fc.integer({ min: 0, max: 16383 }),
  }),
  record(
    {
      driverVolumeType: fc.constant('rbd' as const),
      pool: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
      image: fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/),
    },
    { hosts: fc.array(fc.stringMatching(/^[A-Za-z0-9.:[\]-]{1,30}$/), { maxLength: 3 }) },
  ),
);

export const volumeAttachmentArb: fc.Arbitrary<VolumeAttachmentInput> = record(
  { volumeId: uuidArb, connectionInfo: connectionInfoArb },
  {
    deviceName: deviceNameArb,
    diskBus: diskBusArb,
    bootIndex: fc.integer({ min: -1, max: 64 }),
    sizeGb: fc.integer({ min: 1, max: 1024 * 1024 }),
    deleteOnTermination: fc.boolean(),
  },
);

export const blockDeviceInfoArb = record(
  {},
  {
    rootDeviceName: deviceNameArb,
    ephemerals: fc.array(
      record(
        { sizeGb: fc.integer({ min: 1, max: 1024 * 1024 }) },
        {
          deviceName: deviceNameArb,
          guestFormat: fc.constantFrom('ext4', 'ext3', 'xfs', 'vfat', 'ntfs', 'swap'),
          diskBus: diskBusArb,
        },
      ),
      { maxLength: 3 },
    ),
    swap: record({ sizeMb: fc.integer({ min: 1, max: 1024 * 1024 }) }, { deviceName: deviceNameArb }),
    volumes: fc.uniqueArray(volumeAttachmentArb, { maxLength: 3, selector: (v) => v.volumeId }),
  },
);

/** Valid InstanceSpec inputs, every optional part sometimes present and sometimes absent. */
export const instanceSpecArb: fc.Arbitrary<InstanceSpecInput> = record(
  { uuid: uuidArb, name: userStringArb(1), flavor: flavorArb, image: imageMetaArb },
  {
    metadata: metadataArb,
    userData: fc.base64String({ maxLength: 200 }),
    keyData: fc.string({ maxLength: 200 }),
    networkInfo: fc.uniqueArray(vifArb, { maxLength: 3, selector: (v) => v.id }),
    blockDeviceInfo: blockDeviceInfoArb,
    powerOn: fc.boolean(),
    node: identifierArb,
  },
);
