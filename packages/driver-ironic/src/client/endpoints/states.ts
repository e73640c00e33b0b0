import type { Control, IronicHttp } from '../http.js';
import type { ConsoleState } from '../types.js';

const enc = encodeURIComponent;

export type ProvisionTarget = 'active' | 'deleted' | 'rebuild' | 'rescue' | 'unrescue' | 'manage' | 'provide';
export type PowerTarget = 'power on' | 'power off' | 'rebooting' | 'soft rebooting' | 'soft power off';

/** PUT /v1/nodes/{ident}/states/provision (202: the conductor works asynchronously). */
export async function setProvisionState(
  http: IronicHttp,
  ident: string,
  target: ProvisionTarget,
  extra: { configdrive?: unknown; rescue_password?: string; deploy_steps?: unknown[] } = {},
  c: Control = {},
): Promise<void> {
  await http.request({ method: 'PUT', path: `/v1/nodes/${enc(ident)}/states/provision`, body: { target, ...extra }, ...c });
}

/** PUT /v1/nodes/{ident}/states/power; `timeoutS` bounds soft power actions (microversion >= 1.27). */
export async function setPowerState(http: IronicHttp, ident: string, target: PowerTarget, timeoutS?: number, c: Control = {}): Promise<void> {
  const body: Record<string, unknown> = { target };
  if (timeoutS !== undefined) body.timeout = timeoutS;
  await http.request({ method: 'PUT', path: `/v1/nodes/${enc(ident)}/states/power`, body, ...c });
}

/** GET /v1/nodes/{ident}/states/console. */
export async function getConsole(http: IronicHttp, ident: string, c: Control = {}): Promise<ConsoleState> {
  const res = await http.request<ConsoleState>({ method: 'GET', path: `/v1/nodes/${enc(ident)}/states/console`, ...c });
  return res.body;
}
