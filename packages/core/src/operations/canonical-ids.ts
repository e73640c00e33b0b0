import type { z } from 'zod';
import type { InstanceSpecSchema } from '../schemas/instance-spec.js';
import type { MigrationRequestSchema, MigrationTargetSchema } from '../schemas/migration.js';

/*
 * One instance, volume or interface is one whatever the letter case its caller wrote: the guard
 * lower-cases every uuid inside a parsed argument before a driver sees it. The registry names
 * these as its arguments' `canonicalise`.
 */

/** Device ids inside arguments, lower-cased like every uuid the guard hands to a driver. */
export const lowerVolumeId = (a: { volumeId: string }): void => {
  a.volumeId = a.volumeId.toLowerCase();
};
export const lowerVifId = (v: { id: string }): void => {
  v.id = v.id.toLowerCase();
};
export const lowerSpecIds = (s: z.output<typeof InstanceSpecSchema>): void => {
  s.uuid = s.uuid.toLowerCase();
  for (const v of s.networkInfo) lowerVifId(v);
  for (const v of s.blockDeviceInfo.volumes) lowerVolumeId(v);
};

export const lowerRequestIds = (r: z.output<typeof MigrationRequestSchema>): void => {
  r.migrationId = r.migrationId.toLowerCase();
  lowerSpecIds(r.instance);
};
export const lowerTargetIds = (t: z.output<typeof MigrationTargetSchema>): void => {
  t.migrationId = t.migrationId.toLowerCase();
  t.instanceUuid = t.instanceUuid.toLowerCase();
};
