import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { ListenError } from './listen-address.js';

/** Mode of every socket the agent creates: owner and group may connect, nobody else. */
export const SOCKET_MODE = 0o660;

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Make the socket's place ready: its directory (0750 when created), and no stale socket from a
 * previous run. A socket another process still answers on is an error, not something to steal;
 * a path that is not a socket is never removed.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  let stat;
  try {
    stat = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSocket()) throw new ListenError(`${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) throw new ListenError(`${path}: another process is listening on it`);
  await unlink(path);
}

/**
 * Run `bind` with a umask that creates the socket 0660 at once, so it is never reachable by
 * others even for an instant. (process.umask cannot be set in worker threads; there the socket
 * starts with the process umask, which denies others write, i.e. connect, under the usual 022.)
 */
export async function withSocketUmask<T>(bind: () => Promise<T>): Promise<T> {
  let previous: number | undefined;
  try {
    previous = process.umask(0o117);
  } catch {
    previous = undefined;
  }
  try {
    return await bind();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

/** 0660, and the configured group: members of that group hold the socket's role. */
export async function securePermissions(path: string, gid: number | undefined): Promise<void> {
  if (gid !== undefined) await chown(path, -1, gid);
  await chmod(path, SOCKET_MODE);
}

/** A group given by name (looked up in /etc/group) or by number. */
export async function resolveGroup(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const lines = (await readFile('/etc/group', 'utf8')).split('\n');
  for (const line of lines) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new ListenError(`no group named ${group} in /etc/group`);
}
