/** The driver's kind name (its manifest's name): libvirt hosts move instances only among themselves. */
export const DRIVER_NAME = '@nova-common/driver-libvirt';
