import type { Model } from '../model/model.js';

/**
 * Inputs a polite generator would never write: uuids in any letter case, instances sharing a
 * name or a name's prefix. The contract allows both; a driver that keys by the uuid as written
 * or by the name breaks on them.
 */

/** The letter cases a uuid is written in: as the pool has it (lower), upper, mixed. */
export const LETTER_CASES = 3;

/**
 * A uuid written in one of the letter cases (the contract is case-insensitive: one instance
 * whatever the case its caller writes, so the model keys by lower case).
 */
export function caseOf(uuid: string, letters: number): string {
  switch (letters % LETTER_CASES) {
    case 1:
      return uuid.toUpperCase();
    case 2: {
      let out = '';
      for (let i = 0; i < uuid.length; i++) out += i % 2 === 0 ? uuid[i]!.toUpperCase() : uuid[i]!.toLowerCase();
      return out;
    }
    default:
      return uuid;
  }
}

/** How a spawn names its instance: 0 and 1 its own name, 2 a live instance's name, 3 a live instance's name plus a suffix. */
export const NAMINGS = 4;

/**
 * The name a spawn gives: its own, or one shared with a live instance (names are labels, not
 * keys: two instances may bear the same name, or one's name may be a prefix of the other's).
 */
export function spawnName(model: Model, own: string, uuid: string, naming: number): string {
  if (naming < 2) return own;
  let other: string | undefined;
  for (const inst of model.instances.values()) {
    if (inst.uuid.toLowerCase() !== uuid.toLowerCase()) {
      other = inst.name;
      break;
    }
  }
  if (other === undefined) return own;
  return naming === 2 ? other : `${other}-2`;
}
