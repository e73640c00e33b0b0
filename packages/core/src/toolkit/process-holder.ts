import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Who holds a piece of work on this host (a spawn half made, a lock), written down so that a
 * later process on the same host can tell for certain that the holder has died and reclaim
 * the work at once, instead of waiting out an age limit that must be longer than any spawn.
 *
 * A holder is `h1:<boot id>:<pid namespace>:<pid>:<start time>`. The process is known to be
 * gone only when the reader runs under the same kernel boot and in the same pid namespace
 * (a driver in a container sees other pids than the host) and that pid is free or belongs to
 * a process that started at another time (pids are reused). Anything else (another host,
 * another namespace, no /proc, a holder written by an older driver) is "not known to be
 * gone": the caller then keeps its age limit. There is no library for this: it is four reads
 * of /proc.
 */
const VERSION = 'h1';

/** The holder string of this process, or '' where /proc cannot say (not Linux). */
export function currentHolder(): string {
  const me = processStat('self')?.started;
  const boot = bootId();
  const ns = pidNamespace();
  if (me === undefined || boot === undefined || ns === undefined) return '';
  return [VERSION, boot, ns, String(process.pid), me].join(':');
}

/**
 * Whether the process a holder names has certainly died: same boot, same pid namespace, and
 * its pid now free or reused by a process with another start time. False when unsure.
 */
export function holderIsGone(holder: string): boolean {
  const parts = holder.split(':');
  if (parts.length !== 5 || parts[0] !== VERSION) return false;
  const [, boot, ns, pid, started] = parts as [string, string, string, string, string];
  if (!/^[1-9][0-9]{0,9}$/.test(pid)) return false;
  if (boot !== bootId() || ns !== pidNamespace()) return false;
  const now = processStat(pid);
  if (now === undefined) return pidIsFree(pid);
  // A zombie has died; only its parent has not reaped it yet.
  return now.started !== started || now.state === 'Z' || now.state === 'X';
}

function bootId(): string | undefined {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The pid namespace's inode, from `pid:[4026531836]`. */
function pidNamespace(): string | undefined {
  try {
    return /^pid:\[([0-9]+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The state (field 3) and start time (field 22, clock ticks since boot) of a process from
 * /proc/<pid>/stat, or undefined when it cannot be read. The command name (field 2) may hold
 * spaces and parentheses: the fields are counted from the last ')'.
 */
function processStat(pid: string): { state: string; started: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // `after` starts at field 3 (state); field 22 is at index 19.
  const [state, started] = [after[0], after[19]];
  return state !== undefined && started !== undefined && /^[0-9]+$/.test(started) ? { state, started } : undefined;
}

/** A pid whose /proc entry cannot be read is free only when /proc itself answers for others. */
function pidIsFree(pid: string): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`, 'utf8');
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && processStat('self') !== undefined;
  }
}
