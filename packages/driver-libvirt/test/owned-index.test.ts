import { describe, expect, it } from 'vitest';
import { OwnedIndex } from '../src/driver/owned-index.js';

describe('OwnedIndex', () => {
  it('tells owned, foreign and unknown domains apart, and sums what the owned ones use', () => {
    const index = new OwnedIndex();
    index.noteOwned('a', { VCPU: 1 });
    index.noteOwned('b', { VCPU: 2, MEMORY_MB: 64 });
    index.noteForeign('c');
    expect(index.lookup('a')).toEqual({ VCPU: 1 });
    expect(index.lookup('c')).toBeNull();
    expect(index.lookup('d')).toBeUndefined();
    expect(index.usages()).toEqual([{ VCPU: 1 }, { VCPU: 2, MEMORY_MB: 64 }]);
    index.forget('a');
    expect(index.lookup('a')).toBeUndefined();
  });

  it('forgets what a full listing did not see, but not what was noted while it was on its way', () => {
    const index = new OwnedIndex();
    index.noteOwned('gone', { VCPU: 1 });
    index.noteForeign('foreign-gone');
    index.noteOwned('kept', { VCPU: 2 });
    const listing = index.beginListing();
    index.noteOwned('spawned-meanwhile', { VCPU: 4 });
    index.retain(new Set(['kept']), listing);
    expect(index.lookup('gone')).toBeUndefined();
    expect(index.lookup('foreign-gone')).toBeUndefined();
    expect(index.lookup('kept')).toEqual({ VCPU: 2 });
    expect(index.lookup('spawned-meanwhile')).toEqual({ VCPU: 4 });
    // A later listing that does not have it either forgets it.
    index.retain(new Set(['kept']), index.beginListing());
    expect(index.lookup('spawned-meanwhile')).toBeUndefined();
    index.clear();
    expect(index.size).toBe(0);
  });
});
