import { create, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { methodDefinition } from '../../src/grpc/service-definition.js';
import { driverErrorOf, errorDetailFromStatusBin } from '../../src/mapping/errors.js';
import type { DriverError } from '@nova-common/core';
import * as pb from '../../src/wire.js';

type Methods = typeof pb.ComputeService.method;
type Unary = Exclude<keyof Methods, 'watchEvents'>;

/** What a raw call ended with: the response, or the gRPC code and the contract error it carried. */
export type WireResult<K extends Unary> = { ok: true; response: MessageShapeOf<K> } | { ok: false; grpcCode: number; details: string; error: DriverError | undefined; cause: ServiceError };
type MessageShapeOf<K extends Unary> = Methods[K]['output'] extends infer O ? (O extends { typeName: string } ? Message & Record<string, unknown> : never) : never;

/** A client speaking the service directly (messages built by hand: request ids, malformed inputs). */
export class WireClient {
  readonly client: Client;
  constructor(target: string) {
    this.client = new Client(target, credentials.createInsecure());
  }

  call<K extends Unary>(op: K, init: MessageInitShape<Methods[K]['input']>, deadlineMs = 10_000): Promise<WireResult<K>> {
    const method = pb.ComputeService.method[op];
    const d = methodDefinition(method);
    const request = create(method.input, init as never) as Message;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize as (b: Buffer) => Message, request, new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, value?: Message) => {
        if (err) {
          const bin = err.metadata?.get('grpc-status-details-bin')[0];
          const detail = bin instanceof Buffer ? errorDetailFromStatusBin(bin) : undefined;
          resolve({ ok: false, grpcCode: err.code, details: err.details, error: detail === undefined ? undefined : driverErrorOf(detail), cause: err });
        } else resolve({ ok: true, response: value as never });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
