import { create, type Message } from '@bufbuild/protobuf';
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { DriverError, toDriverError } from '@nova-common/core';
import { PLUG_CONTRACT_VERSION, type GuardedVifPlugin, type GuardedVolumeConnector, type PlugCallOptions } from '@nova-common/core/plugs';
import { isMalformed } from '../grpc/service-definition.js';
import { PLUG_WIRE_OPERATIONS, type PlugWireOperation, type VifPluginDescription, type VolumeConnectorDescription } from '../mapping/plug-operations.js';
import { callerOf, callScope, type ListenerPolicy, type ServiceContext } from './context.js';
import { contractStatus, permissionDenied } from './status.js';

/** The plugs an agent serves, behind the plug guard; a kind it was not given is undefined. */
export interface ServedPlugs {
  readonly vif: GuardedVifPlugin | undefined;
  readonly volume: GuardedVolumeConnector | undefined;
}

const MISSING = {
  vif: 'this agent serves no VIF plugin (start it with --vif-plugin)',
  volume: 'this agent serves no volume connector (start it with --volume-connector)',
} as const;

type PlugMethod = (...args: unknown[]) => Promise<unknown>;

/** Call the guarded plug once: the Describe RPCs answer its readonly fields, the others its method. */
async function callPlug(wire: PlugWireOperation, plugs: ServedPlugs, request: Message, signal: AbortSignal): Promise<unknown> {
  const plug = wire.plug === 'vif' ? plugs.vif : plugs.volume;
  if (plug === undefined) throw new DriverError('UNSUPPORTED', { op: wire.op, detail: MISSING[wire.plug] });
  if (wire.op === 'describeVifPlugin') {
    const vif = plug as GuardedVifPlugin;
    return { name: vif.name, vifTypes: [...vif.vifTypes], plugContractVersion: PLUG_CONTRACT_VERSION } satisfies VifPluginDescription;
  }
  if (wire.op === 'describeVolumeConnector') {
    const volume = plug as GuardedVolumeConnector;
    return { name: volume.name, transports: [...volume.transports], plugContractVersion: PLUG_CONTRACT_VERSION } satisfies VolumeConnectorDescription;
  }
  const method = (plug as unknown as Record<string, PlugMethod>)[wire.op]!;
  const options: PlugCallOptions = { signal };
  return method.call(plug, ...wire.toCall(request as never), options);
}

/**
 * The handler of one plug RPC on one listener: the role check first (a refused caller reaches
 * no plug), then the request's parse, then the guarded plug under the call's deadline and
 * cancellation. Errors travel as the compute service's do.
 */
export function plugHandler(wire: PlugWireOperation, plugs: ServedPlugs, ctx: ServiceContext, policy: ListenerPolicy) {
  const op = wire.op;
  return (call: ServerUnaryCall<unknown, Message>, callback: sendUnaryData<Message>): void => {
    const caller = callerOf(call, policy);
    if (!caller.may(op)) {
      ctx.metrics.refused(op, 'PERMISSION_DENIED');
      ctx.log.warn({ op, caller: caller.name, roles: [...caller.roles] }, 'refused: the caller’s role does not allow this operation');
      callback(permissionDenied(`${caller.roles.size === 0 ? 'a caller without a role' : `role ${[...caller.roles].join('+')}`} may not call ${wire.method.name}`));
      return;
    }
    const request = call.request;
    if (isMalformed(request)) {
      ctx.metrics.refused(op, 'INVALID_INPUT');
      const error = new DriverError('INVALID_INPUT', { op, issues: [{ path: [], message: `the request does not parse as ${wire.method.input.typeName}: ${request.malformed.message}` }] });
      callback(contractStatus(error, undefined));
      return;
    }
    const done = ctx.metrics.begin(op);
    const scope = callScope(call, op, ctx.inFlight);
    callPlug(wire, plugs, request as Message, scope.signal)
      .then((result) => create(wire.method.output, wire.toResponse(result) as never) as Message)
      .then(
        (response) => {
          scope.end();
          done('OK');
          if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ op, caller: caller.name }, 'ok');
          callback(null, response);
        },
        (thrown: unknown) => {
          scope.end();
          const error = toDriverError(thrown, op);
          done(error.code);
          if (error.code === 'INTERNAL') ctx.log.warn({ op, caller: caller.name, err: error.message }, 'failed');
          else if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ op, caller: caller.name, code: error.code }, error.message);
          callback(contractStatus(error, undefined));
        },
      );
  };
}

/** The handlers of one plug service on one listener, keyed by the methods' local names. */
export function plugImplementation(kind: 'vif' | 'volume', plugs: ServedPlugs, ctx: ServiceContext, policy: ListenerPolicy): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const wire of Object.values(PLUG_WIRE_OPERATIONS)) if (wire.plug === kind) handlers[wire.method.localName] = plugHandler(wire, plugs, ctx, policy) as never;
  return handlers;
}
