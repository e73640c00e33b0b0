import { abortableSleep, isDriverError, type CallOptions, type ComputeDriver } from '@nova-common/core';

/** What the driver saw of a call's signal when it aborted. */
export interface SeenAbort {
  op: string;
  code: string | undefined;
  causeCode: string | undefined;
}

export interface SlowOptions {
  /** The operations that take time (default reboot and rebuild). */
  ops?: string[];
  /** Wait before doing the work (the default: an abort changes nothing) or after it (the work is done, the answer is late). */
  when?: 'before' | 'after';
}

/**
 * The driver with some operations taking `ms`, abortable through their signal as a real driver's
 * wait on its backend is, recording each abort they saw. Everything else is the driver's own.
 */
export function slowDriver<D extends ComputeDriver>(driver: D, ms: number, seen: SeenAbort[], options: SlowOptions = {}): D {
  const ops = new Set(options.ops ?? ['reboot', 'rebuild']);
  const slow = (op: string) => async (...args: unknown[]) => {
    const signal = (args[args.length - 1] as CallOptions | undefined)?.signal;
    const work = () => (driver[op as keyof ComputeDriver] as (...a: unknown[]) => Promise<unknown>).apply(driver, args);
    const wait = async () => {
      try {
        await abortableSleep(ms, signal);
      } catch (error) {
        const reason: unknown = signal?.reason;
        const cause = isDriverError(reason) ? (reason.cause as unknown) : undefined;
        seen.push({ op, code: isDriverError(reason) ? reason.code : undefined, causeCode: isDriverError(cause) ? cause.code : undefined });
        throw error;
      }
    };
    if (options.when === 'after') {
      const result = await work();
      await wait();
      return result;
    }
    await wait();
    return work();
  };
  return new Proxy(driver, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && ops.has(prop)) return slow(prop);
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
