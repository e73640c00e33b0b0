import type { IronicHttp } from '../http.js';
import { listAll } from '../pagination.js';
import type { IronicPort } from '../types.js';

/** GET /v1/ports?node=<ident>: the node's physical NICs (their MACs go to the config drive). */
export function listPorts(http: IronicHttp, nodeIdent: string, signal?: AbortSignal): Promise<IronicPort[]> {
  return listAll<IronicPort>(http, {
    path: '/v1/ports',
    key: 'ports',
    query: { node: nodeIdent, fields: 'uuid,address' },
    limit: 1000,
    signal,
  });
}
