import type { IronicHttp } from '../http.js';

export interface IronicDriverInfo {
  name: string;
  hosts: string[];
}

/** GET /v1/drivers: the hardware types conductors have loaded. */
export async function listDrivers(http: IronicHttp, signal?: AbortSignal): Promise<IronicDriverInfo[]> {
  const res = await http.request<{ drivers: IronicDriverInfo[] }>({ method: 'GET', path: '/v1/drivers', signal });
  return res.body.drivers ?? [];
}
