import { z } from 'zod';
import {
  CAPABILITY_IDS,
  MANDATORY_CAPABILITIES,
  PROFILE_IDS,
  capabilitiesOfProfile,
  capabilitiesKnownAt,
  type CapabilityId,
  type ProfileId,
} from './catalog.js';
import { VifTypeSchema } from '../schemas/network-info.js';

export const CapabilityIdSchema = z.enum(CAPABILITY_IDS as [CapabilityId, ...CapabilityId[]]);
export const ProfileIdSchema = z.enum(PROFILE_IDS as [ProfileId, ...ProfileId[]]);

/**
 * `complete`: works in every configuration the driver accepts. `partial`: works with
 * caveats, stated in `notes`. `missing`: the driver raises UNSUPPORTED.
 */
export const SupportLevelSchema = z.enum(['complete', 'partial', 'missing']);
export type SupportLevel = z.infer<typeof SupportLevelSchema>;

export const CapabilityDeclarationSchema = z
  .object({ level: SupportLevelSchema, notes: z.string().max(1000).optional() })
  .strict()
  .refine((d) => d.level !== 'partial' || (d.notes !== undefined && d.notes.length > 0), {
    message: 'a partial capability must say why in notes',
    path: ['notes'],
  });
export type CapabilityDeclaration = z.infer<typeof CapabilityDeclarationSchema>;

/**
 * Bounds for what completes asynchronously. A synchronous driver declares zeros. The
 * conformance suite waits at most these long before judging.
 */
export const EventualConsistencySchema = z
  .object({
    /** After destroy returns, how long until the instance's resources count as released in inventory. */
    resourceReleaseMs: z.number().int().min(0).max(3_600_000),
    /** After an operation returns, how long until its lifecycle event has been delivered. */
    eventDeliveryMs: z.number().int().min(0).max(600_000),
    /** After destroy returns, how long until the node can take a new instance. */
    nodeAvailableMs: z.number().int().min(0).max(3_600_000),
  })
  .strict();
export type EventualConsistency = z.infer<typeof EventualConsistencySchema>;

export const VolumeTransportSchema = z.enum(['file', 'block', 'iscsi', 'rbd']);

/**
 * What a driver supports, declared at run time after initHost: it can depend on the
 * driver's configuration and on the backend it is connected to. Every capability id its
 * contract baseline knows is declared, with no gaps: an absent id is an invalid declaration,
 * not an implicit "no". Ids added by a later contract version read as missing when absent.
 */
const DriverCapabilitiesObject = z
  .object({
    // Partial at run time (capabilities added after 1.0 may be absent from a 1.0 driver's
    // declaration); the superRefine below requires every 1.0 id, and the guard fills the rest.
    capabilities: z.partialRecord(CapabilityIdSchema, CapabilityDeclarationSchema),
    /** True when the host manages many nodes (bare metal); spawn then takes an optional node. */
    multiNode: z.boolean(),
    /** Connection types attachVolume accepts. */
    volumeTransports: z.array(VolumeTransportSchema),
    /**
     * VIF types spawn and attachInterface wire (since 1.2.0); a VIF of another type is
     * INVALID_INPUT naming its `type`, before anything is made. Absent: not declared (a driver
     * built before 1.2.0); callers learn it from the refusal.
     */
    vifTypes: z.array(VifTypeSchema).optional(),
    eventualConsistency: EventualConsistencySchema,
  })
  .strict()
  .superRefine((caps, ctx) => {
    // Every capability of contract 1.0.0 is declared; later ones may be absent (read as
    // missing), so drivers built against 1.0 stay valid. The guard holds a driver to every
    // capability its own baseline knows (capabilitiesKnownAt).
    for (const id of capabilitiesKnownAt('1.0.0')) {
      if (!(id in caps.capabilities)) {
        ctx.addIssue({ code: 'custom', path: ['capabilities', id], message: 'must be declared (complete, partial or missing): contract 1.0.0 has it' });
      }
    }
    // The core profile is mandatory: a driver that cannot launch, terminate, report or boot
    // from an image is no driver of this contract, so declaring one of these missing is invalid.
    for (const id of MANDATORY_CAPABILITIES) {
      if (caps.capabilities[id]?.level === 'missing') {
        ctx.addIssue({
          code: 'custom',
          path: ['capabilities', id],
          message: `cannot be missing: ${id} is in the core profile, which every driver supports (declare it complete, or partial with notes)`,
        });
      }
    }
  });
/** A declaration as consumers see it (through the guard): every capability id present. */
export type DriverCapabilities = Omit<z.infer<typeof DriverCapabilitiesObject>, 'capabilities'> & {
  capabilities: Record<CapabilityId, CapabilityDeclaration>;
};
/**
 * The schema of a declaration. Its static type is the complete declaration consumers see; at
 * run time ids added after the driver's baseline may be absent (see capabilitiesKnownAt).
 */
export const DriverCapabilitiesSchema = DriverCapabilitiesObject as unknown as z.ZodType<DriverCapabilities, z.input<typeof DriverCapabilitiesObject>>;

/** True when the capability is declared complete or partial. */
export function supports(caps: DriverCapabilities, id: CapabilityId): boolean {
  const level = caps.capabilities[id]?.level;
  return level === 'complete' || level === 'partial';
}

/** A profile is supported when every capability in it is. */
export function supportedProfiles(caps: DriverCapabilities): ProfileId[] {
  return PROFILE_IDS.filter((p) => capabilitiesOfProfile(p).every((id) => supports(caps, id)));
}

/**
 * Helper for drivers: build a full declaration. An id in `partial` is declared partial with
 * that caveat; otherwise an id in `supported` is complete. The core profile
 * (MANDATORY_CAPABILITIES) is mandatory, so its ids are declared complete whether or not
 * `supported` lists them (partial when `partial` names them): there is no declaring them
 * missing, and a hand-made declaration that does is invalid (the guard rejects it, see
 * checkCapabilities). Every other id not in `supported` or `partial` is declared missing.
 */
export function declareCapabilities(options: {
  supported: CapabilityId[];
  partial?: Partial<Record<CapabilityId, string>>;
  multiNode?: boolean;
  volumeTransports?: z.infer<typeof VolumeTransportSchema>[];
  vifTypes?: z.infer<typeof VifTypeSchema>[];
  eventualConsistency?: Partial<EventualConsistency>;
}): DriverCapabilities {
  const capabilities = {} as Record<CapabilityId, CapabilityDeclaration>;
  for (const id of CAPABILITY_IDS) {
    const partialNote = options.partial?.[id];
    if (partialNote !== undefined) capabilities[id] = { level: 'partial', notes: partialNote };
    else capabilities[id] = { level: options.supported.includes(id) ? 'complete' : 'missing' };
  }
  for (const id of MANDATORY_CAPABILITIES) {
    if (capabilities[id].level === 'missing') capabilities[id] = { level: 'complete' };
  }
  return {
    capabilities,
    multiNode: options.multiNode ?? false,
    volumeTransports: options.volumeTransports ?? [],
    ...(options.vifTypes === undefined ? {} : { vifTypes: options.vifTypes }),
    eventualConsistency: { resourceReleaseMs: 0, eventDeliveryMs: 0, nodeAvailableMs: 0, ...options.eventualConsistency },
  };
}
