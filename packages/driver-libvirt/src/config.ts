import { z } from 'zod';
import { HostPathSchema } from '@nova-common/core';
import { PlugSpecSchema } from '@nova-common/core/plugs';
import { deviceEntryProblem, normalise, ownDirectoryProblem, volumeRootProblem } from './volumes/rules.js';

const DEFAULT_VOLUME_ROOT = '/var/lib/libvirt/images/nova-common/volumes';

/** A volume root: a host path that exposes no host system directory. */
const VolumeRootSchema = HostPathSchema.transform(normalise).superRefine((root, ctx) => {
  const problem = volumeRootProblem(root);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const DeviceEntrySchema = HostPathSchema.superRefine((entry, ctx) => {
  const problem = deviceEntryProblem(entry);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** The driver's configuration. Every field is described; defaults suit a local libvirtd. */
export const LibvirtDriverConfigSchema = z
  .object({
    uri: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s]*$/, 'must be a libvirt URI like qemu:///system or test:///default')
      .default('test:///default')
      .describe(
        'The libvirt URI opened on the daemon (sent in CONNECT_OPEN), e.g. qemu:///system or test:///default. A client-style transport (test+unix:///default) is accepted and its +transport part dropped.',
      ),
    socketPath: HostPathSchema.default('/run/libvirt/libvirt-sock').describe("libvirtd's unix socket."),
    migrationAddress: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s#]*$/, 'must be a libvirt URI like qemu+tcp://host/system')
      .optional()
      .describe(
        "This daemon's libvirt URI as a SOURCE host's libvirtd reaches it for a peer-to-peer migration (prepareMigration answers it in the target's address). Default: the driver's own URI, with ?socket=<socketPath> when the socket is not libvirt's default.",
      ),
    migrationListenAddress: z
      .string()
      .regex(/^[0-9A-Fa-f:.]{2,45}$/, 'must be an IP address')
      .default('127.0.0.1')
      .describe(
        "The IP address this host's QEMU listens on for an incoming live migration (memory and disks), and the source's QEMU connects to: this host's address on the migration network.",
      ),
    domainType: z
      .enum(['qemu', 'kvm', 'test'])
      .optional()
      .describe('The <domain type> to define. Inferred from the URI when absent: test:// -> test, otherwise qemu (TCG); set kvm explicitly.'),
    imageDir: HostPathSchema.default('/var/lib/libvirt/images/nova-common/images').describe(
      'Directory where image ids resolve to files (image id = file name) and where snapshots are written. Must be readable by the QEMU user.',
    ),
    instancesDir: HostPathSchema.default('/var/lib/libvirt/images/nova-common/instances').describe(
      'Directory under which each instance gets <uuid>/ with its disks and console log.',
    ),
    volumeRoots: z
      .array(VolumeRootSchema)
      .min(1)
      .max(64)
      .default([DEFAULT_VOLUME_ROOT])
      .describe(
        'The allowlisted host directories of file volumes: a volume of transport file (at spawn or attachVolume) must resolve, after .. and symlinks, strictly inside one of them, else INVALID_INPUT naming its path field. A root may not be, contain or (for /etc, /usr, /boot, /dev, /proc, /sys, /root, /bin, /sbin, /lib*) lie inside a host system directory, nor overlap instancesDir or contain imageDir.',
      ),
    deviceAllowlist: z
      .array(DeviceEntrySchema)
      .max(256)
      .default([])
      .describe(
        'Host block devices a volume of transport block may name besides devices inside volumeRoots: exact paths under /dev/, or prefixes ending in * (e.g. /dev/loop*); matched against the resolved device path. Empty: no host block device outside volumeRoots.',
      ),
    kernel: HostPathSchema.optional().describe('Kernel for direct-boot guests (QEMU/KVM only); when absent guests boot from their root disk.'),
    initrd: HostPathSchema.optional().describe('Initramfs for direct-boot guests.'),
    kernelArgs: z
      .string()
      .max(1024)
      .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII')
      .default('console=ttyS0')
      .describe('Kernel command line for direct-boot guests.'),
    cpuMode: z
      .enum(['host-model', 'host-passthrough', 'custom', 'maximum'])
      .optional()
      .describe(
        "The guest CPU (<cpu mode>). Default: host-model under kvm (the host's CPU, migratable, as Nova), maximum under qemu (TCG: QEMU's max, every feature TCG emulates; QEMU's own default qemu64 lacks what current distributions require). host-model and host-passthrough need KVM; custom needs cpuModel.",
      ),
    cpuModel: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a CPU model name such as qemu64, Haswell-noTSX or EPYC')
      .optional()
      .describe('The named CPU model for cpuMode custom (libvirt refuses a model the host cannot provide: match exact, fallback forbid).'),
    diskCacheMode: z
      .enum(['none', 'writeback', 'writethrough', 'directsync', 'unsafe'])
      .optional()
      .describe(
        "Cache mode of the instances' file-backed disks (root, ephemeral, swap, file volumes; block volumes: none unless set). Default: none (with io native) when instancesDir's filesystem takes O_DIRECT, else writeback, as Nova's disk_cachemodes default.",
      ),
    namePrefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'must be a short identifier')
      .default('nova-')
      .describe('Domain names are <namePrefix><instance uuid>; also part of the ownership marker.'),
    nodeName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/)
      .optional()
      .describe("This host's node id; libvirtd's hostname when absent."),
    acpiShutdownTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(60_000)
      .describe('Power off: how long to wait for an ACPI shutdown before forcing it (Nova: shutdown_timeout). Overridden per call by gracefulTimeoutMs.'),
    softRebootTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(60_000)
      .describe('Soft reboot: how long to wait for the guest to shut down on ACPI before falling back to a hard reboot.'),
    callTimeoutMs: z.number().int().min(100).max(600_000).default(30_000).describe('Timeout of one libvirt RPC call.'),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe('Timeout for connecting to libvirtd and opening the URI.'),
    keepaliveIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(5_000)
      .describe('Keepalive: ping libvirtd after this much silence; 0 turns client pings off.'),
    keepaliveCount: z.number().int().min(1).max(100).default(5).describe('Keepalive: declare the daemon dead after this many silent intervals.'),
    eventDeliveryMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(2_000)
      .describe('Declared bound (capabilities.eventualConsistency.eventDeliveryMs) for lifecycle events to arrive after an operation.'),
    cpuAllocationRatio: z.number().positive().max(1000).default(4).describe('VCPU allocation ratio reported in inventory (Nova: initial_cpu_allocation_ratio).'),
    ramAllocationRatio: z.number().positive().max(1000).default(1).describe('MEMORY_MB allocation ratio (Nova: initial_ram_allocation_ratio).'),
    diskAllocationRatio: z.number().positive().max(1000).default(1).describe('DISK_GB allocation ratio (Nova: initial_disk_allocation_ratio).'),
    reservedHostMemoryMb: z.number().int().min(0).default(512).describe('MEMORY_MB reserved for the host (Nova: reserved_host_memory_mb).'),
    diskTotalGb: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('DISK_GB total; when absent, the size of the filesystem holding instancesDir.'),
    vifPlugin: PlugSpecSchema.optional().describe(
      "A VIF plugin (@nova-common/core/plugs), e.g. { use: '@nova-common/plugs#createLinuxBridgeTapPlugin' }, loaded at initHost: it makes the tap of every VIF that goes on a bridge before the domain is defined (the guest's NIC opens it: <interface type='ethernet'>, managed='no'), and removes it with the VIF; the VIF types accepted are the plugin's. Absent: libvirt adds its own tap to the VIF's bridge.",
    ),
    volumeConnector: PlugSpecSchema.optional().describe(
      "A volume connector (@nova-common/core/plugs), e.g. { use: '@nova-common/plugs#createLoopConnector', config: { roots, stateDir } }, loaded at initHost: it connects every volume (at spawn and attachVolume) and the guest's disk uses the file or block device it answers; detach and destroy disconnect it. The transports accepted are the connector's, and the connector's roots (not volumeRoots) judge the paths. Absent: the driver opens file and block volumes itself.",
    ),
    staleSpawnMs: z
      .number()
      .int()
      .min(0)
      .default(600_000)
      .describe('The startup sweep removes half-spawned domains of other driver sessions once they are this old.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.cpuMode === 'custom' && config.cpuModel === undefined) ctx.addIssue({ code: 'custom', path: ['cpuModel'], message: 'cpuMode custom needs a cpuModel' });
    if (config.cpuModel !== undefined && config.cpuMode !== 'custom') ctx.addIssue({ code: 'custom', path: ['cpuModel'], message: 'cpuModel is only used with cpuMode custom' });
    config.volumeRoots.forEach((root, i) => {
      const problem = ownDirectoryProblem(root, config);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['volumeRoots', i], message: problem });
    });
  });

export type LibvirtDriverConfig = z.output<typeof LibvirtDriverConfigSchema>;
export type LibvirtDriverConfigInput = z.input<typeof LibvirtDriverConfigSchema>;

/** `test+unix:///default` -> `test:///default`: the daemon opens the driver URI without transport. */
export function daemonUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9.-]*)\+[a-z0-9.-]+:\/\//, '$1://');
}

export function inferDomainType(config: Pick<LibvirtDriverConfig, 'uri' | 'domainType'>): 'qemu' | 'kvm' | 'test' {
  if (config.domainType) return config.domainType;
  return daemonUri(config.uri).startsWith('test:') ? 'test' : 'qemu';
}
