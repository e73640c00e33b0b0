// Where the CPU time of a run goes, from a V8 CPU profile taken in-process: every sample is
// put in the category of the code it ran (the guard, the reference driver, the suite,
// fast-check) or, for shared code (zod, promises, timers), of the nearest caller that has one.
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export type Category = 'guard' | 'driver' | 'suite' | 'fast-check' | 'gc' | 'other';

function categoryOf(node: ProfileNode): Category | undefined {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (/packages\/core\/src\/guard\//.test(url)) return 'guard';
  if (/packages\/core\/src\//.test(url)) return 'driver';
  if (/packages\/conformance\/(src|bench)\//.test(url)) return 'suite';
  if (/fast-check/.test(url)) return 'fast-check';
  return undefined;
}

/** Run `work` under the CPU profiler; the share of active CPU time per category (idle left out). */
export async function profileShares(work: () => Promise<unknown>): Promise<Record<Category, number>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  let profile: Profile;
  try {
    await work();
  } finally {
    profile = ((await session.post('Profiler.stop')) as { profile: Profile }).profile;
    session.disconnect();
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, Category>();
  const resolve = (id: number): Category => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    let category: Category = 'other';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = categoryOf(byId.get(cur)!);
      if (c !== undefined) {
        category = c;
        break;
      }
    }
    memo.set(id, category);
    return category;
  };
  const time: Record<Category, number> = { guard: 0, driver: 0, suite: 0, 'fast-check': 0, gc: 0, other: 0 };
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)' || node.callFrame.functionName === '(program)') continue;
    const dt = profile.timeDeltas[i] ?? 0;
    time[resolve(node.id)] += dt;
    total += dt;
  }
  for (const k of Object.keys(time) as Category[]) time[k] = total === 0 ? 0 : time[k] / total;
  return time;
}
