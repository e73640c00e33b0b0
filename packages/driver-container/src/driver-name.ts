/**
 * The driver's kind name, as its manifest gives it. Kept apart from manifest.ts so the driver's
 * modules can name their own kind (migration targets carry it) without importing the manifest,
 * which imports them.
 */
export const DRIVER_NAME = '@nova-common/driver-container';
