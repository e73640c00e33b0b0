import semver from 'semver';
import { z } from 'zod';

/**
 * The shape a `manifest` export must have. The config schema is checked by duck typing
 * (a `safeParse` method) rather than `instanceof`, so a driver built against another copy
 * of zod still loads.
 */
export const ManifestShapeSchema = z.object({
  name: z.string().min(1, 'must be a non-empty package name'),
  version: z.string().refine((v) => semver.valid(v) !== null, { message: 'must be a semver version like 1.2.3' }),
  contract: z.string().refine((r) => r.trim() !== '' && semver.validRange(r) !== null, {
    message: 'must be a semver range like ^1.0.0',
  }),
  description: z.string().min(1, 'must be a non-empty description'),
  configSchema: z.custom<{ safeParse: (input: unknown) => unknown }>(
    (s) => typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function',
    { message: 'must be a zod schema (an object with a safeParse method)' },
  ),
  create: z.custom<(config: unknown) => unknown>((f) => typeof f === 'function', { message: 'must be a function' }),
});

/** What the config schema's safeParse answers, for zod 3 and zod 4 alike. */
export interface SafeParseAnswer {
  success: boolean;
  data?: unknown;
  error?: { issues?: { path?: PropertyKey[]; message?: string }[] };
}
