import { describe, expect, it } from 'vitest';
import type { SequencedCall } from '../src/commands/call.js';
import type { StepRecord } from '../src/result.js';
import { withoutCalls } from '../src/run/model-run.js';

const UUID = '6f1c2b9e-3d4a-4b5c-8d6e-000000000001';
const spawn = { op: 'spawn', spec: { uuid: UUID } } as unknown as SequencedCall;
const snap = (name: string): SequencedCall => ({ op: 'snapshot', uuid: UUID, spec: { name } }) as SequencedCall;
const del = (n: number): SequencedCall => ({ op: 'deleteSnapshot', imageId: { produced: n } }) as SequencedCall;
const ok: StepRecord = { op: 'x', args: [], expected: { ok: true }, actual: { ok: true } };
const refused: StepRecord = { op: 'x', args: [], expected: { ok: false, error: 'INVALID_STATE' }, actual: { ok: false, error: 'INVALID_STATE', message: '' } };
const imagesNamed = (calls: SequencedCall[] | undefined): unknown[] | undefined => calls?.filter((c) => c.op === 'deleteSnapshot').map((c) => (c as { imageId: unknown }).imageId);

describe('minimising a sequence keeps each image reference on the same image', () => {
  const calls = [spawn, snap('a'), snap('b'), snap('c'), del(2), del(2)];
  const trace = calls.map(() => ok);

  it('removing earlier snapshots renumbers the later references', () => {
    const shorter = withoutCalls(calls, trace, 1, 2);
    expect(shorter?.map((c) => c.op)).toEqual(['spawn', 'snapshot', 'deleteSnapshot', 'deleteSnapshot']);
    expect(imagesNamed(shorter)).toEqual([{ produced: 0 }, { produced: 0 }]);
  });

  it('removing the snapshot a kept call names is no candidate', () => {
    expect(withoutCalls(calls, trace, 3, 1)).toBeUndefined();
  });

  it('a snapshot that was refused made no image: removing it renumbers nothing', () => {
    // a was refused: b is image #0, c is image #1.
    const withRefusal = [spawn, snap('a'), snap('b'), snap('c'), del(1), del(1)];
    const t = [ok, refused, ok, ok, ok, ok];
    expect(imagesNamed(withoutCalls(withRefusal, t, 1, 1))).toEqual([{ produced: 1 }, { produced: 1 }]);
    // Removing b (image #0) makes c image #0.
    expect(imagesNamed(withoutCalls(withRefusal, t, 2, 1))).toEqual([{ produced: 0 }, { produced: 0 }]);
  });

  it('calls without image references are removed as they are', () => {
    expect(withoutCalls(calls, trace, 4, 1)).toEqual([spawn, snap('a'), snap('b'), snap('c'), del(2)]);
  });
});
