/** What an instance uses, per resource class (core's expectedUsage of its flavor). */
export type Usage = Readonly<Record<string, number>>;

interface Entry {
  /** The instance's usage; null for a domain named like ours that is someone else's. */
  usage: Usage | null;
  /** The listing generation when it was noted. */
  noted: number;
}

/**
 * This session's tally of the domains named like its own: whether each is an instance of
 * this driver (and what its flavor uses) or someone else's. Placement sums it (as Nova's
 * resource tracker keeps its own claims), and event filtering reads it; an operation on an
 * instance always checks ownership in the domain's live XML instead. A definition's owner
 * and flavor do not change while it exists, so an entry changes only when this driver spawns
 * or removes a domain, an UNDEFINED event arrives, or a full listing (initHost, reconnect,
 * getInventory) no longer has it.
 */
export class OwnedIndex {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  /** Start a full listing: entries noted from now on survive its retain(). */
  beginListing(): number {
    return ++this.generation;
  }

  /** The usage of an instance of ours, null for someone else's domain, undefined when unknown. */
  lookup(uuid: string): Usage | null | undefined {
    return this.entries.get(uuid)?.usage;
  }

  noteOwned(uuid: string, usage: Usage): void {
    this.entries.set(uuid, { usage, noted: this.generation });
  }

  noteForeign(uuid: string): void {
    this.entries.set(uuid, { usage: null, noted: this.generation });
  }

  forget(uuid: string): void {
    this.entries.delete(uuid);
  }

  /**
   * After the full listing begun as `listing`: forget the domains it did not see, except
   * those noted since it began (a spawn that finished while the listing was on its way).
   */
  retain(present: ReadonlySet<string>, listing: number): void {
    for (const [uuid, entry] of this.entries) if (!present.has(uuid) && entry.noted < listing) this.entries.delete(uuid);
  }

  /** The usage of every instance of ours it knows. */
  usages(): Usage[] {
    const out: Usage[] = [];
    for (const entry of this.entries.values()) if (entry.usage) out.push(entry.usage);
    return out;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
