import { z } from 'zod';
import { PlugSpecSchema } from '@nova-common/core/plugs';
import { unsafeDeviceEntryReason, unsafeVolumeRootReason } from './mapping/host-paths.js';

const NamePart = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,19}$/, 'lower-case letters, digits and dashes, at most 20 characters, starting with a letter or digit');

const AbsolutePath = z
  .string()
  .regex(/^\//, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain .. segments' });

/** A path that passes `rule` (a reason when it does not), as one zod issue on the field. */
const SafePath = (rule: (p: string) => string | undefined) =>
  AbsolutePath.superRefine((p, ctx) => {
    const reason = p.startsWith('/') ? rule(p) : undefined;
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
  });

const Milliseconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** The configuration of the container driver. Every field has a default. */
export const ContainerDriverConfigSchema = z
  .object({
    socketPath: AbsolutePath.default('/var/run/docker.sock').describe(
      "The engine's unix socket: dockerd's /var/run/docker.sock, or podman's /run/podman/podman.sock.",
    ),
    apiVersion: z
      .string()
      .regex(/^1\.\d{2}$/, 'must be an API version like 1.41')
      .optional()
      .describe('Engine API version to speak; negotiated with the engine (capped at 1.45) when absent.'),
    volumeRoot: SafePath((p) => unsafeVolumeRootReason(p))
      .default('/var/lib/nova-common/volumes')
      .describe(
        'The allowlisted host root for volumes: a file volume (and a block volume not in deviceAllowlist) must resolve, after symlinks, inside it; anything else is refused with INVALID_INPUT. A directory of its own: never /, a system directory (/etc, /usr, /dev, /proc, /sys, /boot, /root, /run, ...), the engines\' storage, inside one of them, nor a directory holding one of them or a shared tree (/home, /tmp, /var/lib, ...).',
      ),
    deviceAllowlist: z
      .array(SafePath(unsafeDeviceEntryReason))
      .max(256)
      .default([])
      .describe(
        'Host block devices (exact paths, or prefixes ending in *, e.g. /dev/loop*) that block volumes may name besides volumeRoot. Under /dev/ only; never a whole disk (/dev/sda, /dev/nvme0n1, ...) nor a wildcard over a disk family or a directory (/dev/*, /dev/sd*, /dev/dm-*).',
      ),
    connectTimeoutMs: Milliseconds(100, 120_000).default(10_000).describe("Deadline for connecting to the engine's socket."),
    requestTimeoutMs: Milliseconds(100, 600_000)
      .default(10_000)
      .describe("Deadline for the engine's answer to a call; stops also get their grace period on top. A hung engine yields BACKEND_UNAVAILABLE."),
    longRequestTimeoutMs: Milliseconds(1_000, 3_600_000)
      .default(300_000)
      .describe("Deadline for the engine's answer to the calls that wait on the disk or on a guest's end: remove, commit, wait."),
    stateDir: AbsolutePath.default('/var/lib/nova-common/driver-container').describe(
      'Where the driver records the container runs it asked to stop (the engine cannot: labels are immutable), so a forced stop of its own never reads as a crash, also after a restart.',
    ),
    stopTimeoutSeconds: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(10)
      .describe('Graceful stop period: SIGTERM, then SIGKILL after this many seconds (soft reboot, volume recreation, restoreState SHUTDOWN, the engine\'s own stops).'),
    namePrefix: NamePart.default('nova').describe('Prefix of container, network and image names the driver creates (<prefix>-<uuid>).'),
    labelPrefix: z
      .string()
      .regex(/^[a-z0-9]+(\.[a-z0-9-]+)*$/, 'a reverse-DNS label prefix like io.nova-common')
      .default('io.nova-common')
      .describe('Prefix of the labels that mark what the driver owns and carry instance data.'),
    ownerId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . -, at most 64')
      .default('default')
      .describe('Ownership marker: the driver only lists, changes and removes objects labelled with this owner id.'),
    nodeName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,255}$/)
      .optional()
      .describe("The node id reported for this host; the engine's host name when absent."),
    images: z
      .array(z.string().min(1).max(255))
      .max(1024)
      .optional()
      .describe('Allowlist of local image references instances may use (exact, or a repository prefix ending in *); any local image when absent.'),
    imageMap: z
      .record(z.string().min(1).max(255), z.string().min(1).max(255))
      .default({})
      .describe('Maps an ImageMeta.id to a local image reference; an id not in the map is itself the reference.'),
    pidsLimit: z.number().int().min(16).max(4_194_304).default(1024).describe('Process limit of each instance (flavor extra spec container:pids_limit overrides).'),
    init: z
      .boolean()
      .default(true)
      .describe("Run the engine's init (tini / catatonit) as PID 1 so the image's process gets default signal handling and zombies are reaped."),
    consoleLogLines: z.number().int().min(1).max(100_000).default(1000).describe('Most console log lines getConsoleOutput returns (the tail).'),
    consoleLogBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024).describe('Most console log bytes getConsoleOutput returns (the tail).'),
    spawnSweepAgeSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(300)
      .describe('initHost removes half-created containers (left by a spawn the engine or the driver died in) older than this.'),
    cpuAllocationRatio: z.number().positive().max(1000).default(16).describe('VCPU overcommit ratio reported in inventory.'),
    ramAllocationRatio: z.number().positive().max(1000).default(1.5).describe('MEMORY_MB overcommit ratio reported in inventory.'),
    diskAllocationRatio: z.number().positive().max(1000).default(1).describe('DISK_GB overcommit ratio reported in inventory.'),
    vifPlugin: PlugSpecSchema.optional().describe(
      "The VIF plugin that wires instances' ports (e.g. {\"use\": \"@nova-common/plugs#createVethPlugin\"}), loaded at initHost. With one, a VIF is no engine network: the container runs with network mode none, and after every start the driver plugs its VIFs and moves each veth peer into the container as eth<N> (it must answer veth devices). Absent: VIFs are endpoints on internal engine networks.",
    ),
    volumeConnector: PlugSpecSchema.optional().describe(
      'The volume connector that turns connection infos into host files or block devices (e.g. {"use": "@nova-common/plugs#createFileConnector", "config": {...}}), loaded at initHost. With one, volumes of its transports are connected through it and the path it answers is bind-mounted (file) or mapped as a device (block); detach and destroy disconnect them. Absent: connection infos name paths under volumeRoot.',
    ),
  })
  .strict();

export type ContainerDriverConfig = z.infer<typeof ContainerDriverConfigSchema>;
export type ContainerDriverConfigInput = z.input<typeof ContainerDriverConfigSchema>;
