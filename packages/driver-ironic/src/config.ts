import { z } from 'zod';

const Microversion = z.string().regex(/^1\.\d{1,3}$/, 'must be an Ironic microversion like 1.56');

/** Core's RetryPolicy as configuration: the HTTP client's one retry layer. */
const RetryPolicyConfig = (d: { attempts: number; baseDelayMs: number; maxDelayMs: number }) =>
  z
    .object({
      attempts: z.number().int().min(0).max(100).default(d.attempts).describe('Extra attempts after the first (0: no retries).'),
      baseDelayMs: z.number().int().min(1).max(60_000).default(d.baseDelayMs).describe('First delay in milliseconds; it doubles each attempt, with full jitter.'),
      maxDelayMs: z.number().int().min(1).max(600_000).default(d.maxDelayMs).describe('Upper bound of one delay in milliseconds.'),
    })
    .strict()
    .default(d);

const Reference = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\u0000-\u001f\u007f\s]+$/, 'must be a URL or a Glance image uuid, without spaces or control characters');

/** What Ironic needs about one image that the contract's ImageMeta does not carry (mapping/image-source.ts). */
export const ImageEntrySchema = z
  .object({
    checksum: Reference.optional().describe('instance_info.image_checksum: a hex digest (MD5, SHA-256, SHA-512) or the URL of a checksum file.'),
    osHashAlgo: z.enum(['md5', 'sha1', 'sha256', 'sha512']).optional().describe('instance_info.image_os_hash_algo (with osHashValue; preferred over checksum).'),
    osHashValue: z.string().regex(/^[0-9a-fA-F]{32,128}$/, 'must be a hex digest').optional().describe('instance_info.image_os_hash_value.'),
    imageType: z.enum(['whole-disk', 'partition']).optional().describe('instance_info.image_type; default: partition for disk format ami, else whole-disk.'),
    kernel: Reference.optional().describe('instance_info.kernel of a partition image (URL or Glance uuid).'),
    ramdisk: Reference.optional().describe('instance_info.ramdisk of a partition image (URL or Glance uuid).'),
  })
  .strict()
  .superRefine((e, ctx) => {
    if ((e.osHashAlgo === undefined) !== (e.osHashValue === undefined)) {
      ctx.addIssue({ code: 'custom', path: [e.osHashAlgo === undefined ? 'osHashAlgo' : 'osHashValue'], message: 'osHashAlgo and osHashValue go together' });
    }
    const lengths: Record<string, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };
    if (e.osHashAlgo && e.osHashValue && e.osHashValue.length !== lengths[e.osHashAlgo]) {
      ctx.addIssue({ code: 'custom', path: ['osHashValue'], message: `a ${e.osHashAlgo} digest has ${lengths[e.osHashAlgo]} hex digits` });
    }
    if (e.imageType === 'partition') {
      for (const f of ['kernel', 'ramdisk'] as const) if (!e[f]) ctx.addIssue({ code: 'custom', path: [f], message: `a partition image needs a ${f}` });
    }
  });
export type ImageEntry = z.infer<typeof ImageEntrySchema>;

/** The driver's configuration; every field has a default and a description. */
export const IronicDriverConfigSchema = z
  .object({
    endpoint: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:6385')
      .describe('Base URL of the Ironic API (a path prefix such as /baremetal is kept).'),
    microversion: z
      .object({
        min: Microversion.default('1.56').describe('Lowest API microversion the driver accepts (1.56: config drive as JSON).'),
        max: Microversion.default('1.82').describe('Highest API microversion the driver asks for (tested against 1.82, Zed).'),
      })
      .strict()
      .default({ min: '1.56', max: '1.82' })
      .describe('Microversion range; the highest version the server also supports is used for every request.'),
    hostId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .default('nova-common')
      .describe('This host\'s ownership marker, written to instance_info.nova_common.owner; nodes marked by another host are never touched.'),
    nodeFilter: z
      .object({
        resourceClass: z.string().min(1).max(80).optional().describe('Only manage nodes of this Ironic resource class.'),
        conductorGroup: z.string().max(255).optional().describe('Only manage nodes of this conductor group.'),
        owner: z.string().min(1).max(255).optional().describe('Only manage nodes with this owner (microversion >= 1.50).'),
      })
      .strict()
      .default({})
      .describe('Which Ironic nodes this host manages.'),
    imageSourceTemplate: z
      .string()
      .min(1)
      .max(1024)
      .refine((t) => t.includes('{id}'), { message: 'must contain {id}' })
      .default('{id}')
      .describe('instance_info.image_source for an image: {id} is replaced by the URL-encoded image id. The default passes the id as a Glance image uuid, as Nova does; e.g. file:///var/lib/ironic/images/{id}.img for file images.'),
    images: z
      .record(z.string().min(1).max(255), ImageEntrySchema)
      .default({})
      .describe('Per image id: the checksum, image type and kernel/ramdisk Ironic needs for file:// and http(s):// sources (a Glance source needs none: Ironic asks Glance). A file:// image without a checksum here gets one computed (SHA-256 of the file).'),
    configDrive: z
      .object({
        availabilityZone: z.string().min(1).max(255).default('nova').describe('meta_data.availability_zone (Nova\'s default_availability_zone).'),
        projectId: z.string().max(255).optional().describe('meta_data.project_id; default: hostId (the contract has no projects).'),
        dhcpDomain: z
          .string()
          .max(253)
          .regex(/^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)?$/, 'must be a domain name or empty')
          .default('novalocal')
          .describe('Appended to meta_data.hostname as Nova\'s [api] dhcp_domain (default novalocal); empty: the bare host name.'),
      })
      .strict()
      .default({ availabilityZone: 'nova', dhcpDomain: 'novalocal' })
      .describe('Fields of the config drive\'s meta_data the contract does not carry.'),
    connections: z.number().int().min(1).max(1024).default(16).describe('Connections to Ironic at most (the pool bound); more requests queue.'),
    keepAliveTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(20_000)
      .describe('Close idle connections after this long; keep it below Ironic\'s client_socket_timeout.'),
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000).describe('Timeout of one HTTP request.'),
    pageSize: z.number().int().min(1).max(1000).default(1000).describe('Nodes per page of list calls (Ironic caps it at [api] max_limit).'),
    deployTimeoutMs: z.number().int().min(1000).max(7_200_000).default(1_800_000).describe('Give up waiting for a deploy (or rebuild) after this long.'),
    actionTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(300_000)
      .describe('Give up waiting for a power action, a teardown, rescue or unrescue after this long.'),
    outageBudgetMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(60_000)
      .describe('A wait for Ironic (deploy, power action, teardown, ...) gives up with BACKEND_UNAVAILABLE (retryable) once no look at the node has been answered for this long, instead of waiting out deployTimeoutMs / actionTimeoutMs while Ironic is down; keep it below the calls\' deadlines.'),
    nodeRecoveryAttempts: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe('How many times this process brings one free node back from a failure state (clean failed after a teardown, a failed deploy without an instance) before leaving it to the operator (reported unavailable, reason error); 0: never.'),
    softTimeoutS: z.number().int().min(1).max(3600).default(60).describe('Seconds Ironic may spend on a soft power off or soft reboot before the driver falls back to a hard one.'),
    retry: RetryPolicyConfig({ attempts: 10, baseDelayMs: 100, maxDelayMs: 3000 }).describe(
      'Retries of transient answers (409 NodeLocked, 503, a refused connection; any failed connection for reads) by the HTTP client, the only layer that retries; the waits end with the call\'s deadline.',
    ),
    poll: z
      .object({
        initialMs: z.number().int().min(1).max(60_000).default(20).describe('Shortest delay between two looks at a node.'),
        factor: z.number().min(1).max(10).default(1.5).describe('Growth of the delay while nothing changes.'),
        maxMs: z.number().int().min(1).max(600_000).default(2000).describe('Longest delay between two looks at a node.'),
        batchThreshold: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(4)
          .describe('When at least this many waits are due at once, one paginated list call serves them all.'),
      })
      .strict()
      .default({ initialMs: 20, factor: 1.5, maxMs: 2000, batchThreshold: 4 })
      .describe('How waits for Ironic transitions look at nodes: adaptive backoff, restarted on progress, first look at the learnt typical duration.'),
    events: z
      .boolean()
      .default(true)
      .describe('Emit lifecycle events: for the power transitions this driver completes, and for changes it did not make (see eventPollMs); Ironic pushes none to us.'),
    eventPollMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(1000)
      .describe('While anyone listens to events, look at the nodes of this host\'s instances this often (one list call) for changes the driver did not make: out-of-band events. 0: never (event.out-of-band is then declared missing).'),
    eventDeliveryMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(10_000)
      .describe('Declared bound (capabilities.eventualConsistency.eventDeliveryMs): an out-of-band change Ironic records reaches the listeners within this long (a poll interval plus the list call on a busy Ironic). Events of the driver\'s own calls are delivered before the call resolves.'),
    nodeAvailableMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(30_000)
      .describe('Declared bound (capabilities.eventualConsistency.nodeAvailableMs): after destroy returns, Ironic cleans the node asynchronously; this long at most until it is available again.'),
  })
  .strict();

export type IronicDriverConfig = z.infer<typeof IronicDriverConfigSchema>;
export type IronicDriverConfigInput = z.input<typeof IronicDriverConfigSchema>;
