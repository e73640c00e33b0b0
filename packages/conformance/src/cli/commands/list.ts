import {
  CAPABILITY_CATALOG,
  CAPABILITY_IDS,
  OPERATIONS,
  OPERATION_NAMES,
  PROFILE_IDS,
  DriverError,
  capabilitiesOfProfile,
  checkCapabilities,
  supportedProfiles,
  type DriverCapabilities,
  type ProfileId,
} from '@nova-common/core';
import { baselineOf } from '../../config.js';
import { printable } from '../../report/terminal.js';
import { parseCommandArgs } from '../args.js';
import { EXIT_FAIL, EXIT_PASS, type CliIo } from '../io.js';
import { planProperties } from '../engine.js';
import { DRIVER_OPTIONS, driverFromArgs, onlyOption, peerFromArgs, profilesOption } from './shared.js';

/**
 * `list`: connect, read the declared capabilities, disconnect, and print the plan: the
 * capabilities by profile, the properties a run would check and those it would skip and why.
 */
export async function listCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('list', argv, {
    ...DRIVER_OPTIONS,
    profile: { type: 'string', list: true },
    only: { type: 'string', list: true },
    'peer-config': { type: 'string' },
  });
  const profiles = profilesOption('list', args.profile);
  const only = onlyOption(args.only);
  const source = await driverFromArgs('list', args, io);
  const driver = source.createRaw();
  const m = source.manifest;
  let declared: unknown;
  await driver.initHost();
  try {
    declared = await driver.getCapabilities();
  } finally {
    await driver.cleanupHost();
  }
  // Judge the raw declaration the way the guard does in `run`, so `list` never accepts what `run` refuses.
  let caps: DriverCapabilities;
  try {
    caps = checkCapabilities(declared, baselineOf(m.contract));
  } catch (e) {
    if (!(e instanceof DriverError)) throw e;
    const lines = [`driver ${m.name} ${m.version}: its capability declaration is invalid (the guard refuses it):`];
    for (const issue of e.issues ?? []) lines.push(`  ${issue.path.join('.')}: ${issue.message}`);
    io.stderr.write(`${lines.map(printable).join('\n')}\n`);
    return EXIT_FAIL;
  }

  const out: string[] = [];
  out.push(printable(`driver ${m.name} ${m.version} (contract ${m.contract})`));
  if (m.description !== '') out.push(printable(`  ${m.description}`));
  out.push('', 'capabilities declared:');
  const width = Math.max(...CAPABILITY_IDS.map((id) => id.length));
  const supported = supportedProfiles(caps);
  for (const profile of PROFILE_IDS) {
    const filtered = profiles !== undefined && profile !== 'core' && !profiles.includes(profile);
    const state = `${supported.includes(profile) ? 'supported' : 'not supported'}${filtered ? ', filtered out' : ''}`;
    out.push(`  ${profile} (${state})`);
    for (const id of capabilitiesOfProfile(profile)) {
      const d = caps.capabilities[id];
      const notes = d?.notes === undefined ? '' : ` - ${d.notes}`;
      out.push(printable(`    ${id.padEnd(width)}  ${(d?.level ?? 'undeclared').padEnd(8)}  ${CAPABILITY_CATALOG[id].title}${notes}`));
    }
  }

  out.push('', 'operations (the contract registry: capability, declared level, semantics-table columns):');
  out.push(...operationLines(caps, profiles));

  // The engine's own plan, so `list` says exactly what `run` would do.
  // A witness in the fixtures turns on P-BACKEND-WITNESS and P-RESTART, as in `run`.
  const fixtures = await source.fixtures();
  const witnessed = fixtures.witness !== undefined;
  try {
    await fixtures.witness?.close?.();
  } finally {
    await fixtures.cleanup?.();
  }
  const peer = await peerFromArgs('list', source, args['peer-config'], io);
  const plan = planProperties(caps, {
    profiles: profiles ?? 'all',
    only,
    contractBaseline: baselineOf(m.contract),
    restart: witnessed,
    ...(witnessed ? { witness: fixtures.witness } : {}),
    ...(peer !== undefined ? { peer } : {}),
  });
  const willRun = plan.filter((p) => p.skip === undefined);
  const skipped = plan.filter((p) => p.skip !== undefined);
  const idWidth = Math.max(...plan.map((p) => p.def.id.length));
  out.push('', `properties that would run (${willRun.length}):`);
  for (const p of willRun) {
    const caps = p.capabilities.length === 0 ? '' : ` [${p.capabilities.join(', ')}]`;
    out.push(printable(`  ${p.def.id.padEnd(idWidth)}  ${p.def.title}${caps}`));
  }
  out.push('', `properties that would be skipped (${skipped.length}):`);
  for (const p of skipped) out.push(printable(`  ${p.def.id.padEnd(idWidth)}  ${p.skip ?? ''}`));
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT_PASS;
}

/** One line per operation of the registry: the capability gating it, what the driver declares, its table columns. */
function operationLines(caps: DriverCapabilities, profiles: ProfileId[] | undefined): string[] {
  const width = Math.max(...OPERATION_NAMES.map((op) => op.length));
  const capWidth = Math.max(...CAPABILITY_IDS.map((id) => id.length));
  return OPERATION_NAMES.map((op) => {
    const d = OPERATIONS[op];
    const cap = d.capability;
    const profile = cap === null ? 'core' : CAPABILITY_CATALOG[cap].profile;
    const filtered = profiles !== undefined && profile !== 'core' && !d.mandatory && !profiles.includes(profile);
    const level = cap === null ? 'always' : (caps.capabilities[cap]?.level ?? 'undeclared');
    const columns = d.columns.length === 0 ? '-' : d.columns.join(', ');
    return printable(`  ${op.padEnd(width)}  ${(cap ?? '-').padEnd(capWidth)}  ${`${level}${filtered ? ' (filtered out)' : ''}`.padEnd(24)}  ${columns}`).trimEnd();
  });
}
