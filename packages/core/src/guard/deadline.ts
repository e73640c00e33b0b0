/**
 * Deadlines for guarded calls. One shared timer checks every pending call at a coarse
 * tick instead of one setTimeout, one Promise.race and one abort listener per call: those
 * cost a few microseconds each, more than a whole in-memory driver call, and operation
 * timeouts are seconds long, so a tick of TICK_MS is precise enough. The timer runs only
 * while calls are pending; it keeps the process alive meanwhile, so a call to a driver that
 * hangs ends in TIMEOUT rather than in a silent exit.
 */
const TICK_MS = 10;

/**
 * Something with a deadline that knows how to end itself when the deadline passes. The
 * entries form an intrusive doubly-linked list (`prevPending`/`nextPending`), so tracking
 * and untracking a call allocate nothing and hash nothing.
 */
export interface Expiring {
  readonly deadline: number;
  expire(): void;
  prevPending: Expiring | undefined;
  nextPending: Expiring | undefined;
  tracked: boolean;
}

let head: Expiring | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
/** The clock deadlines are read against, refreshed at every tick while the timer runs. */
let clock = performance.now();

/**
 * Now, to TICK_MS: the clock of the last tick while calls are pending (reading the real clock
 * on every call costs more than the precision is worth), the real clock otherwise.
 */
export function coarseNow(): number {
  if (timer === undefined) clock = performance.now();
  return clock;
}

function tick(): void {
  const now = (clock = performance.now());
  let entry = head;
  while (entry !== undefined) {
    const next = entry.nextPending;
    if (entry.deadline <= now) {
      untrack(entry);
      entry.expire();
    }
    entry = next;
  }
  if (head === undefined && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** Watch `entry` until untrack(); expire() is called once its deadline has passed. */
export function track(entry: Expiring): void {
  entry.tracked = true;
  entry.prevPending = undefined;
  entry.nextPending = head;
  if (head !== undefined) head.prevPending = entry;
  head = entry;
  if (timer === undefined) timer = setInterval(tick, TICK_MS);
}

export function untrack(entry: Expiring): void {
  if (!entry.tracked) return;
  entry.tracked = false;
  const { prevPending: prev, nextPending: next } = entry;
  if (prev !== undefined) prev.nextPending = next;
  else head = next;
  if (next !== undefined) next.prevPending = prev;
  entry.prevPending = undefined;
  entry.nextPending = undefined;
}
