import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';

const require = createRequire(import.meta.url);
const reflectionProto = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');

type Ctor = new (target: string, creds: ChannelCredentials) => Client;

function constructor(protoFile: string, path: string[]): Ctor {
  const pkg = loadPackageDefinition(loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })) as Record<string, unknown>;
  return path.reduce((o: unknown, k) => (o as Record<string, unknown>)[k], pkg) as Ctor;
}

/** grpc.health.v1.Health/Check, as any gRPC health prober asks it. */
export function checkHealth(target: string, service = '', creds = credentials.createInsecure()): Promise<string> {
  const Health = constructor(healthProto, ['grpc', 'health', 'v1', 'Health']);
  const client = new Health(target, creds) as Client & { Check(req: unknown, cb: (e: ServiceError | null, r: { status: string }) => void): void };
  return new Promise((resolve, reject) =>
    client.Check({ service }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response.status);
    }),
  );
}

/** grpc.reflection.v1 ServerReflectionInfo: one request, its answer (what grpcurl asks first). */
export function reflect(target: string, request: Record<string, string>): Promise<Record<string, unknown>> {
  const Reflection = constructor(reflectionProto, ['grpc', 'reflection', 'v1', 'ServerReflection']);
  const client = new Reflection(target, credentials.createInsecure()) as Client & { ServerReflectionInfo(): NodeJS.ReadWriteStream & { end(): void } };
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (answer: Record<string, unknown>) => {
      resolve(answer);
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write(request as never);
  });
}
