import { fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageShape } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * grpc-js has no protobuf-es integration: its own code generators target protobufjs and
 * google-protobuf, and a grpc-js ServiceDefinition is just a path and four (de)serialisers per
 * method. So this adapter is written by hand: it reads the protobuf-es service descriptor and
 * gives grpc-js the path `/<package>.<Service>/<Method>` and binary toBinary/fromBinary of the
 * method's messages. Server and remote driver both use it, so they cannot disagree on a path.
 */

/** What the server's deserialiser hands the handler when the request bytes do not parse. */
export interface MalformedRequest {
  readonly malformed: Error;
}

export function isMalformed(request: unknown): request is MalformedRequest {
  return typeof request === 'object' && request !== null && (request as { malformed?: unknown }).malformed instanceof Error;
}

/** The gRPC path of a method. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function serializer<D extends DescMessage>(schema: D): (value: MessageShape<D>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * A deserialiser that never throws: grpc-js would answer a throwing one with INTERNAL, and a
 * request that does not parse is the caller's fault (INVALID_ARGUMENT), so the handler decides.
 */
function lenientDeserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> | MalformedRequest {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      return { malformed: error instanceof Error ? error : new Error(String(error)) };
    }
  };
}

function strictDeserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(schema, bytes);
}

/** One method as grpc-js describes it. */
export function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: methodPath(method),
    originalName: method.localName,
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    requestSerialize: serializer(method.input) as (value: unknown) => Buffer,
    requestDeserialize: lenientDeserializer(method.input),
    responseSerialize: serializer(method.output) as (value: unknown) => Buffer,
    responseDeserialize: strictDeserializer(method.output),
  };
}

/** A protobuf-es service as a grpc-js ServiceDefinition, keyed by the methods' local names (`getInfo`). */
export function serviceDefinition(service: DescService): ServiceDefinition {
  return Object.fromEntries(service.methods.map((m) => [m.localName, methodDefinition(m)]));
}
