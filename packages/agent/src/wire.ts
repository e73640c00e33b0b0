/**
 * The generated protobuf-es messages, enums and the service descriptor, as one namespace
 * (`import * as pb from './wire.js'`): their names (InstanceSpecSchema, FlavorSchema...) would
 * otherwise collide with core's zod schemas of the same concepts.
 */
import './text-encoding.js';

export * from './gen/nova_common/compute/v1/block_device_pb.js';
export * from './gen/nova_common/compute/v1/capabilities_pb.js';
export * from './gen/nova_common/compute/v1/compute_pb.js';
export * from './gen/nova_common/compute/v1/errors_pb.js';
export * from './gen/nova_common/compute/v1/image_pb.js';
export * from './gen/nova_common/compute/v1/instance_pb.js';
export * from './gen/nova_common/compute/v1/inventory_pb.js';
export * from './gen/nova_common/compute/v1/migration_pb.js';
export * from './gen/nova_common/compute/v1/network_pb.js';
export * from './gen/nova_common/compute/v1/outputs_pb.js';
export * from './gen/nova_common/compute/v1/plugs_pb.js';
export * from './gen/nova_common/compute/v1/states_pb.js';
