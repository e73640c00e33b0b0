import type { z } from 'zod';
import type { VolumeTransportSchema } from '../capabilities/driver-capabilities.js';
import type { ConnectionInfoSchema } from '../schemas/block-device-info.js';
import type { VifTypeSchema } from '../schemas/network-info.js';

export type VifType = z.infer<typeof VifTypeSchema>;
export type VolumeTransport = z.infer<typeof VolumeTransportSchema>;
export type ConnectionInfoInput = z.input<typeof ConnectionInfoSchema>;
