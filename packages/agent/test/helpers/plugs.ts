import { create, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { DriverError } from '@nova-common/core';
import type { VifPlugin, VolumeConnector } from '@nova-common/core/plugs';
import { methodDefinition } from '../../src/grpc/service-definition.js';
import { driverErrorOf, errorDetailFromStatusBin } from '../../src/mapping/errors.js';
import * as pb from '../../src/wire.js';

// The host fixtures of the plug suites (a namespace of the test's own, test ports, volume files) are the plugs package's.
export { makeNamespace, sh, testVif, volumeFixtures } from '@nova-common/plugs/testing';

/** The plug's calls by method name, recorded before they run (what reached the plug behind the agent). */
export function recordingVif(plugin: VifPlugin, calls: string[]): VifPlugin {
  return {
    name: plugin.name,
    vifTypes: plugin.vifTypes,
    plug: (...args) => (calls.push('plug'), plugin.plug(...args)),
    unplug: (...args) => (calls.push('unplug'), plugin.unplug(...args)),
    listPlugged: (...args) => (calls.push('listPlugged'), plugin.listPlugged(...args)),
  };
}

export function recordingVolume(connector: VolumeConnector, calls: string[]): VolumeConnector {
  return {
    name: connector.name,
    transports: connector.transports,
    getConnector: (...args) => (calls.push('getConnector'), connector.getConnector(...args)),
    connect: (...args) => (calls.push('connect'), connector.connect(...args)),
    disconnect: (...args) => (calls.push('disconnect'), connector.disconnect(...args)),
    extend: (...args) => (calls.push('extend'), connector.extend(...args)),
    listConnected: (...args) => (calls.push('listConnected'), connector.listConnected(...args)),
  };
}

type VifMethods = typeof pb.VifPlugsService.method;
type VolumeMethods = typeof pb.VolumeConnectorsService.method;
export type RawResult = { ok: true; response: Message & Record<string, unknown> } | { ok: false; grpcCode: number; details: string; error: DriverError | undefined };

/** A plug RPC made by hand (messages built here, not by the remote plugs): what the wire itself answers. */
export function rawPlugCall<K extends keyof VifMethods | keyof VolumeMethods>(
  target: string,
  op: K,
  init: MessageInitShape<(K extends keyof VifMethods ? VifMethods[K] : K extends keyof VolumeMethods ? VolumeMethods[K] : never)['input']>,
): Promise<RawResult> {
  const method = (pb.VifPlugsService.method as Record<string, VifMethods[keyof VifMethods]>)[op] ?? (pb.VolumeConnectorsService.method as Record<string, VolumeMethods[keyof VolumeMethods]>)[op]!;
  const d = methodDefinition(method);
  const client = new Client(target, credentials.createInsecure());
  const request = create(method.input, init as never) as Message;
  return new Promise((resolve) => {
    client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize as (b: Buffer) => Message, request, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, value?: Message) => {
      client.close();
      if (err) {
        const bin = err.metadata?.get('grpc-status-details-bin')[0];
        const detail = bin instanceof Buffer ? errorDetailFromStatusBin(bin) : undefined;
        resolve({ ok: false, grpcCode: err.code, details: err.details, error: detail === undefined ? undefined : driverErrorOf(detail) });
      } else resolve({ ok: true, response: value as never });
    });
  });
}
