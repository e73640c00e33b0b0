import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** The .proto files of the service and of its error details, relative to the package's `proto/` folder. */
export const COMPUTE_PROTO = 'nova_common/compute/v1/compute.proto';
export const ERRORS_PROTO = 'nova_common/compute/v1/errors.proto';
/** The plug services (VifPlugsService, VolumeConnectorsService). */
export const PLUGS_PROTO = 'nova_common/compute/v1/plugs.proto';

/**
 * The `proto/` folder this package ships (the same files as the repository's proto/, copied by
 * `proto:generate`): found by walking up from this module to the package's package.json, which
 * works from the sources, the ESM bundle and the CJS bundle alike.
 */
export function protoDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === '@nova-common/agent') return join(dir, 'proto');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the proto/ folder of @nova-common/agent');
    dir = parent;
  }
}

let loaded: PackageDefinition | undefined;

/**
 * The shipped .proto files, loaded by @grpc/proto-loader (for reflection only: messages travel
 * as protobuf-es). plugs.proto and errors.proto are loaded too, so tools resolve the ErrorDetail of a status.
 */
export function computePackageDefinition(): PackageDefinition {
  loaded ??= loadSync([COMPUTE_PROTO, ERRORS_PROTO, PLUGS_PROTO], { includeDirs: [protoDirectory()], keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
  return loaded;
}

/** Server reflection for the ComputeService and the plug services, so `grpcurl` and other tools can call it unaided. */
export function reflectionService(): ReflectionService {
  return new ReflectionService(computePackageDefinition());
}
