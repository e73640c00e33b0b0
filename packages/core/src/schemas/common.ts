import { z } from 'zod';

/** RFC 4122 UUID in canonical lower- or upper-case form. */
export const UuidSchema = z.uuid({ version: undefined }).describe('A UUID in canonical 8-4-4-4-12 form.');

/** A short identifier chosen by a backend or an operator (node names, image ids, network ids). */
export const IdentifierSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')
  .describe('A non-empty identifier of at most 255 characters without control characters.');

/** Free text a user typed (display names, metadata values). Any Unicode except NUL. */
export const UserStringSchema = z
  .string()
  .max(255)
  .regex(/^[^\u0000]*$/, 'must not contain NUL')
  .describe('User-provided text of at most 255 characters; drivers must escape it wherever it goes.');

/** Metadata: at most 128 entries, keys 1..255 characters, values 0..255 characters. */
export const MetadataSchema = z
  .record(z.string().min(1).max(255).regex(/^[^\u0000]*$/, 'must not contain NUL'), UserStringSchema)
  .refine((m) => Object.keys(m).length <= 128, { message: 'at most 128 metadata entries' })
  .describe('Key/value metadata stored with the instance and reported back unchanged.');

/** A MAC address in colon-separated hex. */
export const MacAddressSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'must be a MAC address like fa:16:3e:00:00:01');

export const NonNegativeIntSchema = z.number().int().min(0);
export const PositiveIntSchema = z.number().int().min(1);
