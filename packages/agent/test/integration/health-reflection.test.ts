import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReference, type Served } from '../helpers/serve.js';
import { checkHealth, reflect } from '../helpers/standard-clients.js';

describe('standard gRPC services: health checking and server reflection', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveReference();
  });
  afterAll(async () => served.close());

  it('health answers SERVING for the server and for the ComputeService, on every socket', async () => {
    for (const role of ['compute', 'reader'] as const) {
      const target = `unix://${served.socket(role)}`;
      expect(await checkHealth(target)).toBe('SERVING');
      expect(await checkHealth(target, 'nova_common.compute.v1.ComputeService')).toBe('SERVING');
      await expect(checkHealth(target, 'no.such.Service')).rejects.toMatchObject({ code: 5 });
    }
  });

  it('reflection lists the ComputeService and gives the files that define it and its ErrorDetail', async () => {
    const target = `unix://${served.socket()}`;
    const listed = (await reflect(target, { list_services: '' })) as { list_services_response: { service: { name: string }[] } };
    expect(listed.list_services_response.service.map((s) => s.name)).toContain('nova_common.compute.v1.ComputeService');
    for (const symbol of ['nova_common.compute.v1.ComputeService', 'nova_common.compute.v1.ErrorDetail']) {
      const answer = (await reflect(target, { file_containing_symbol: symbol })) as { file_descriptor_response: { file_descriptor_proto: Buffer[] } };
      const files = answer.file_descriptor_response.file_descriptor_proto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
      // @grpc/reflection answers with one file per package (and one for the well-known types it uses).
      expect(files.map((f) => f.package)).toContain('nova_common.compute.v1');
      const defines = files.some((f) => f.service.some((s) => `${f.package}.${s.name}` === symbol) || f.messageType.some((m) => `${f.package}.${m.name}` === symbol));
      expect(defines, symbol).toBe(true);
    }
  });

  it('health turns NOT_SERVING when the agent shuts down', async () => {
    const other = await serveReference();
    const target = `unix://${other.socket()}`;
    expect(await checkHealth(target)).toBe('SERVING');
    await other.close();
    await expect(checkHealth(target)).rejects.toBeDefined();
  });
});
