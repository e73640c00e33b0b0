import type { z } from 'zod';
import { CONTRACT_VERSION } from '../version.js';
import { DriverError, type InputIssue } from '../errors/driver-error.js';
import { issuesFromZod } from '../toolkit/issues.js';
import { CAPABILITY_IDS, capabilitiesKnownAt } from './catalog.js';
import { DriverCapabilitiesSchema, type DriverCapabilities } from './driver-capabilities.js';

/**
 * Check a capability declaration (what a driver's getCapabilities returned) against the
 * contract of `contractBaseline`, the lowest version its manifest accepts, and complete it:
 * capabilities added after that version that it leaves out read as missing, so the result
 * declares the whole catalogue. The guard calls this on every getCapabilities answer; tools
 * that read a raw driver's declaration call it to judge it the same way.
 *
 * An invalid declaration is the driver's bug: DriverError INTERNAL (op `getCapabilities`)
 * whose `issues` name every offending field, e.g. `capabilities.storage.image` declared
 * missing (the core profile is mandatory) or a capability of the baseline left out.
 */
export function checkCapabilities(value: unknown, contractBaseline: string = CONTRACT_VERSION): DriverCapabilities {
  const parsed = DriverCapabilitiesSchema.safeParse(value);
  if (!parsed.success) invalid(issuesOf(parsed.error), contractBaseline);
  const caps = parsed.data;
  const absent = capabilitiesKnownAt(contractBaseline).filter((id) => !(id in caps.capabilities));
  if (absent.length > 0) {
    invalid(
      absent.map((id): InputIssue => ({ path: ['capabilities', id], message: `must be declared (complete, partial or missing): contract ${contractBaseline} has it` })),
      contractBaseline,
    );
  }
  const capabilities = { ...caps.capabilities };
  for (const id of CAPABILITY_IDS) capabilities[id] ??= { level: 'missing' };
  return { ...caps, capabilities };
}

/** zod's issues, each unrecognised key (an unknown capability id, a stray field) under its own path. */
function issuesOf(error: z.ZodError): InputIssue[] {
  const converted = issuesFromZod(error);
  return error.issues.flatMap((issue, i): InputIssue[] => {
    const { path, message } = converted[i]!;
    if (issue.code !== 'unrecognized_keys') return [{ path, message }];
    const what = path.at(-1) === 'capabilities' ? 'a capability id of this contract' : 'a field of a capability declaration';
    return issue.keys.map((key) => ({ path: [...path, key], message: `is not ${what}` }));
  });
}

function invalid(issues: InputIssue[], contractBaseline: string): never {
  throw new DriverError('INTERNAL', {
    op: 'getCapabilities',
    issues,
    detail: `contract violation: the driver's capability declaration is invalid for contract ${contractBaseline}`,
  });
}
