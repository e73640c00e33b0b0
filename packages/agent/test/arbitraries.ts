/**
 * fast-check arbitraries for the contract's data. The inputs follow core's test arbitraries
 * (test/arbitraries.ts there): every value must be accepted by the zod schemas, in the *input*
 * form (fields with defaults sometimes left out), as a caller hands it to a driver. The outputs
 * at the end are what drivers return, in the parsed form.
 */
import fc from 'fast-check';
import type { FlavorInput, ImageMetaInput, InstanceSpecInput, VifInput, VolumeAttachmentInput } from '@nova-common/core';
import { MigrationProgressSchema, MigrationTargetSchema } from '@nova-common/core';

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
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 40 })
    .map((s) => s.replaceAll('\u0000', '-'))
    .filter((k) => k !== '__proto__'),
  userStringArb(),
  { maxKeys: 6, noNullPrototype: true },
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
    extraSpecs: fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }).filter((k) => k !== '__proto__'), fc.string({ maxLength: 40 }), { maxKeys: 4, noNullPrototype: true }),
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

const smallMapArb = fc.dictionary(fc.string({ maxLength: 20 }).filter((k) => k !== '__proto__'), fc.string({ maxLength: 40 }), { maxKeys: 3, noNullPrototype: true });

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

/**
 * Valid MigrationRequest inputs (since 1.2.0), the flavor and sameHost sometimes absent. A LIVE
 * request keeps the instance's flavor (R-MIGRATE-LIVE-FLAVOR): when it names one, it is that one.
 */
export const migrationRequestArb = record(
  { migrationId: uuidArb, kind: fc.constantFrom('LIVE' as const, 'COLD' as const), sourceDriver: identifierArb, instance: instanceSpecArb },
  { sameHost: fc.boolean(), flavor: flavorArb },
).map((r) => (r.kind === 'LIVE' && r.flavor !== undefined ? { ...r, flavor: r.instance.flavor } : r));

// ---- outputs: what drivers return (the parsed form, as the guard validates it) ------------

export const powerStateArb = fc.constantFrom('NOSTATE', 'RUNNING', 'PAUSED', 'SHUTDOWN', 'CRASHED', 'SUSPENDED' as const);

export const instanceInfoArb = fc.record({
  uuid: uuidArb,
  name: userStringArb(),
  powerState: powerStateArb,
  mode: fc.constantFrom('normal', 'rescue' as const),
  node: identifierArb,
  metadata: metadataArb,
  volumes: fc.array(record({ volumeId: uuidArb }, { deviceName: deviceNameArb, sizeGb: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }), { maxLength: 3 }),
  interfaces: fc.array(fc.record({ id: uuidArb, address: macArb }), { maxLength: 3 }),
});

export const instanceSummaryArb = fc.record({ uuid: uuidArb, name: userStringArb(), node: identifierArb, metadata: metadataArb });

const resourceClassArb = fc.oneof(fc.constantFrom('VCPU', 'MEMORY_MB', 'DISK_GB'), fc.stringMatching(/^CUSTOM_[A-Z0-9_]{1,20}$/));
const inventoryRecordArb = fc
  .record({
    total: fc.maxSafeNat(),
    used: fc.maxSafeNat(),
    minUnit: fc.integer({ min: 1, max: 1000 }),
    maxUnit: fc.integer({ min: 1000, max: Number.MAX_SAFE_INTEGER }),
    stepSize: fc.integer({ min: 1, max: 1 << 20 }),
    allocationRatio: fc.double({ min: Number.MIN_VALUE, max: 1000, noNaN: true }),
  })
  .chain((r) => fc.integer({ min: 0, max: r.total }).map((reserved) => ({ ...r, reserved })));

export const hostInventoryArb = fc.record({
  nodes: fc.array(
    fc.record({
      node: identifierArb,
      resources: fc.dictionary(resourceClassArb, inventoryRecordArb, { maxKeys: 4, noNullPrototype: true }),
      traits: fc.array(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,30}$/), { maxLength: 4 }),
    }),
    { maxLength: 3 },
  ),
});

export const nodeInfoArb = fc.oneof(
  record({ id: identifierArb, available: fc.constant(true as const) }, { instanceUuid: uuidArb }),
  record(
    {
      id: identifierArb,
      available: fc.constant(false as const),
      unavailableReason: fc.constantFrom('maintenance', 'no-power-state', 'in-use', 'cleaning', 'not-available', 'error' as const),
    },
    { instanceUuid: uuidArb },
  ),
);

export const consoleOutputArb = fc.record({ output: fc.string({ unit: 'binary', maxLength: 300 }), truncated: fc.boolean() });

export const snapshotResultArb = record(
  {
    imageId: identifierArb,
    name: userStringArb(1),
    diskFormat: fc.constantFrom('raw', 'qcow2', 'vmdk', 'vdi', 'iso', 'ploop', 'vhd', 'vhdx', 'aki', 'ari', 'ami' as const),
    containerFormat: fc.constantFrom('bare', 'ovf', 'ova', 'aki', 'ari', 'ami', 'docker', 'compressed' as const),
  },
  { sizeBytes: fc.maxSafeNat() },
);

/** Timestamps as drivers write them (Date#toISOString) and with other precisions zod accepts. */
export const timestampArb = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .tuple(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999_999_999 }))
    .map(([d, nanos]) => `${d.toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`),
);

/** Events as drivers emit them: `cause` (since 1.1.0) present or not; `seq` (set by the guard) present or not. */
export const lifecycleEventArb = record(
  {
    uuid: uuidArb,
    kind: fc.constantFrom('STARTED', 'STOPPED', 'PAUSED', 'RESUMED', 'SUSPENDED', 'CRASHED' as const),
    powerState: powerStateArb,
    node: identifierArb,
    timestamp: timestampArb,
  },
  { cause: fc.constantFrom('requested', 'out-of-band' as const), seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
);

/** The states restoreState accepts. */
export const restorableStateArb = fc.constantFrom('RUNNING', 'SHUTDOWN', 'PAUSED', 'SUSPENDED' as const);

/** MigrationTarget as a destination answers it (parsed form). */
export const migrationTargetArb = fc
  .record({
    migrationId: uuidArb,
    kind: fc.constantFrom('LIVE' as const, 'COLD' as const),
    driver: identifierArb,
    instanceUuid: uuidArb,
    node: identifierArb,
    flavor: flavorArb,
    sameHost: fc.boolean(),
    address: fc.string({ minLength: 1, maxLength: 200 }),
  })
  .map((t) => MigrationTargetSchema.parse(t));

const bytesArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** MigrationProgress as a source reports it: NONE alone, or a running migration with the figures it measured. */
export const migrationProgressArb = fc.oneof(
  fc.record({ instanceUuid: uuidArb, phase: fc.constant('NONE' as const) }),
  fc
    .record(
      {
        instanceUuid: uuidArb,
        phase: fc.constantFrom('COPYING' as const, 'SWITCHING' as const, 'CLEANING' as const),
        migrationId: uuidArb,
        kind: fc.constantFrom('LIVE' as const, 'COLD' as const),
        elapsedMs: bytesArb,
        dataTotalBytes: bytesArb,
        dataProcessedBytes: bytesArb,
        dataRemainingBytes: bytesArb,
      },
      { requiredKeys: ['instanceUuid', 'phase', 'migrationId', 'kind'] },
    )
    .map((p) => (p.dataTotalBytes !== undefined && p.dataProcessedBytes !== undefined && p.dataProcessedBytes > p.dataTotalBytes ? { ...p, dataProcessedBytes: p.dataTotalBytes } : p)),
).map((p) => MigrationProgressSchema.parse(p));
