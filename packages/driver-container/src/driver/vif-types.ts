import { DriverError, type Vif } from '@nova-common/core';
import type { VifType } from '@nova-common/core/plugs';
import type { EngineContext } from './context.js';

/**
 * Without a VIF plugin every port becomes an endpoint on one of the driver's engine networks,
 * which are Linux bridges: bridge ports only. With a plugin, what the plugin wires.
 */
const ENGINE_NETWORK_VIF_TYPES: readonly VifType[] = ['bridge'];

/** The VIF types spawn and attachInterface take (declared as capabilities.vifTypes). */
export function acceptedVifTypes(ctx: EngineContext): readonly VifType[] {
  return ctx.vifPlugin?.vifTypes ?? ENGINE_NETWORK_VIF_TYPES;
}

/**
 * R-SPAWN-VIF-TYPE: a VIF of a type this driver does not wire is INVALID_INPUT naming its type,
 * before anything is looked up or made. Answers the error (undefined when every VIF is wired).
 */
export function vifTypeRefusal(ctx: EngineContext, op: string, target: string, vifs: readonly { vif: Vif; path: (string | number)[] }[]): DriverError | undefined {
  const accepted = acceptedVifTypes(ctx);
  const issues = vifs
    .filter(({ vif }) => !accepted.includes(vif.type))
    .map(({ vif, path }) => ({ path: [...path, 'type'], message: `VIF type ${vif.type} is not wired by this driver (it wires ${accepted.join(', ')})` }));
  return issues.length === 0 ? undefined : new DriverError('INVALID_INPUT', { op, target, issues });
}
