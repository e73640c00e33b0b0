import { create, type Message } from '@bufbuild/protobuf';
import { status, type Client } from '@grpc/grpc-js';
import { ConnectionInfoSchema, DriverError, UuidSchema, VifSchema, issuesFromZod, withRetry, type InputIssue } from '@nova-common/core';
import { PLUG_CONTRACT_VERSION, PlugInstanceSchema, type PlugCallOptions } from '@nova-common/core/plugs';
import { z } from 'zod';
import { PLUG_WIRE_OPERATIONS, type PlugOperation } from '../mapping/plug-operations.js';
import { permits, type Role } from '../server/roles.js';
import { openChannel } from './channel.js';
import { RemoteDriverConfigSchema } from './config.js';
import { TransportFailure, unaryCall } from './unary-call.js';

/**
 * Configuration of a remote plug (`openRemoteVifPlugin`, `openRemoteVolumeConnector`): the
 * remote driver's fields for reaching the agent, and one deadline for every plug call.
 */
export const RemotePlugConfigSchema = RemoteDriverConfigSchema.pick({
  endpoint: true,
  tls: true,
  role: true,
  connectTimeoutMs: true,
  maxMessageBytes: true,
  retry: true,
  reconnectWaitMs: true,
})
  .extend({
    timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000).describe('The deadline of each plug call, in ms.'),
  })
  .strict();

export type RemotePlugConfig = z.input<typeof RemotePlugConfigSchema>;
export type ResolvedRemotePlugConfig = z.output<typeof RemotePlugConfigSchema>;

/**
 * One channel to an agent's plug services. Every plug call is idempotent by the plug contract,
 * so a call the transport failed (UNAVAILABLE without a contract error) is retried as it is.
 */
export class PlugClient {
  readonly endpoint: string;
  private readonly config: ResolvedRemotePlugConfig;
  private readonly client: Client;
  private readonly roles: ReadonlySet<Role> | undefined;

  constructor(config: RemotePlugConfig) {
    this.config = RemotePlugConfigSchema.parse(config);
    this.endpoint = this.config.endpoint;
    this.roles = this.config.role === undefined ? undefined : new Set([this.config.role]);
    this.client = openChannel(this.config);
  }

  /** Wait for the agent (connectTimeoutMs), then check it serves a compatible plug contract. */
  async open<D extends { plugContractVersion: string }>(describe: 'describeVifPlugin' | 'describeVolumeConnector'): Promise<D> {
    await new Promise<void>((resolve, reject) =>
      this.client.waitForReady(Date.now() + this.config.connectTimeoutMs, (error) =>
        error ? reject(new DriverError('BACKEND_UNAVAILABLE', { op: describe, target: this.endpoint, detail: error.message, cause: error })) : resolve(),
      ),
    );
    const description = (await this.call(describe, [])) as D;
    if (description.plugContractVersion.split('.')[0] !== PLUG_CONTRACT_VERSION.split('.')[0]) {
      throw new DriverError('INVALID_INPUT', {
        op: describe,
        issues: [{ path: ['endpoint'], message: `the agent serves plug contract ${description.plugContractVersion}, not compatible with ${PLUG_CONTRACT_VERSION}` }],
      });
    }
    return description;
  }

  /** One plug RPC: the role check, the request, the deadline, retries of what the transport failed. */
  async call(op: PlugOperation, args: readonly unknown[], options?: PlugCallOptions): Promise<unknown> {
    const wire = PLUG_WIRE_OPERATIONS[op];
    if (this.roles !== undefined && !permits(this.roles, op)) {
      throw new DriverError('INTERNAL', { op, detail: `PERMISSION_DENIED: role ${this.config.role} may not call ${op} (checked before calling the agent)` });
    }
    let request: Message;
    try {
      request = create(wire.method.input, wire.toRequest(args) as never) as Message;
    } catch (error) {
      // What cannot even be put on the wire (a value outside a wire enum, a missing object).
      const issues = argumentIssues(op, args);
      throw new DriverError('INVALID_INPUT', { op, issues: issues.length > 0 ? issues : [{ path: [], message: `cannot be sent: ${(error as Error).message}` }] });
    }
    const deadline = Date.now() + this.config.timeoutMs;
    const signal = options?.signal;
    const answer = await withRetry(
      (n) =>
        n === 0
          ? unaryCall(this.client, wire, request, deadline, signal)
          : unaryCall(this.client, wire, request, Math.min(deadline, Date.now() + this.config.reconnectWaitMs), signal, true),
      this.config.retry,
      (error) => error instanceof TransportFailure && error.grpcCode === status.UNAVAILABLE,
      signal,
    ).catch((error: unknown) => {
      if (!(error instanceof TransportFailure)) throw error;
      // A bare UNIMPLEMENTED is an agent built before the plug services.
      if (error.grpcCode === status.UNIMPLEMENTED) throw new DriverError('UNSUPPORTED', { op, detail: `the agent does not serve the plug services: ${error.error.message}`, cause: error.error });
      throw error.error;
    });
    return wire.fromResponse(answer.response as never);
  }

  close(): void {
    this.client.close();
  }
}

/** Each plug operation's arguments, by the name a refusal gives their fields. */
const ARGUMENTS: Partial<Record<PlugOperation, [string, z.ZodType][]>> = {
  plug: [['vif', VifSchema], ['instance', PlugInstanceSchema]],
  unplug: [['vif', VifSchema], ['instance', PlugInstanceSchema]],
  connect: [['volumeId', UuidSchema], ['connectionInfo', ConnectionInfoSchema]],
  disconnect: [['volumeId', UuidSchema], ['connectionInfo', ConnectionInfoSchema]],
  extend: [['volumeId', UuidSchema], ['connectionInfo', ConnectionInfoSchema]],
};

/**
 * The fields of arguments that the wire could not carry, named as the plug guard names them
 * (`vif.type`, `connectionInfo.driverVolumeType`): a value outside a wire enum is one the
 * contract's schema refuses too.
 */
function argumentIssues(op: PlugOperation, args: readonly unknown[]): InputIssue[] {
  return (ARGUMENTS[op] ?? []).flatMap(([name, schema], i) => {
    const parsed = schema.safeParse(args[i]);
    return parsed.success ? [] : issuesFromZod(parsed.error, [name]);
  });
}
