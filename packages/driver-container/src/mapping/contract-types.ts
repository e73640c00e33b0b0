// Contract types the mapping code uses, in one place.
export type { Flavor, ImageMeta, Vif, ConnectionInfo, PowerState } from '@nova-common/core';

/** Instance metadata as the contract defines it (MetadataSchema). */
export type Metadata = Record<string, string>;
