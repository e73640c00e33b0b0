import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DriverError } from '@nova-common/core';

const run = promisify(execFile);

/** Deadline of one host tool call (ip, nsenter). */
const TOOL_TIMEOUT_MS = 15_000;

/** A host tool, with an argument array (never a shell); a failure is INTERNAL naming the command and what it printed. */
async function tool(op: string, cmd: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, [...args], { timeout: TOOL_TIMEOUT_MS, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    throw new DriverError('INTERNAL', { op, detail: `${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}` });
  }
}

/** The commands that move a veth peer into a container's network namespace and name it there (golden-tested). */
export function moveCommands(pid: number, peer: string, ifname: string, mtu?: number): [string, string[]][] {
  const inside = (args: string[]): [string, string[]] => ['nsenter', ['-t', String(pid), '-n', 'ip', ...args]];
  return [
    ['ip', ['link', 'set', 'dev', peer, 'netns', String(pid)]],
    inside(['link', 'set', 'dev', peer, 'name', ifname]),
    ...(mtu === undefined ? [] : [inside(['link', 'set', 'dev', ifname, 'mtu', String(mtu)])]),
    inside(['link', 'set', 'dev', ifname, 'up']),
  ];
}

/**
 * Move a plugged veth's peer (on the host) into the network namespace of the process `pid` (the
 * container's init), rename it `ifname` and bring it up. The peer keeps the MAC the plugin gave it
 * (the port's). The host end stays on the bridge; unplugging it removes the pair, the peer too.
 */
export async function moveIntoNamespace(op: string, pid: number, peer: string, ifname: string, mtu?: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) throw new DriverError('INTERNAL', { op, detail: `the container has no process to move ${peer} to (pid ${pid})` });
  for (const [cmd, args] of moveCommands(pid, peer, ifname, mtu)) await tool(op, cmd, args);
}

/** The interface names inside the network namespace of `pid`. */
export async function namesInNamespace(op: string, pid: number): Promise<string[]> {
  const out = await tool(op, 'nsenter', ['-t', String(pid), '-n', 'ip', '-j', 'link', 'show']);
  return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname);
}
