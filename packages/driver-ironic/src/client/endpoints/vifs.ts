import type { IronicHttp } from '../http.js';
import type { IronicVif } from '../types.js';

const enc = encodeURIComponent;

/** POST /v1/nodes/{ident}/vifs (microversion >= 1.28). */
export async function attachVif(http: IronicHttp, ident: string, vifId: string, signal?: AbortSignal): Promise<void> {
  await http.request({ method: 'POST', path: `/v1/nodes/${enc(ident)}/vifs`, body: { id: vifId }, signal });
}

/** DELETE /v1/nodes/{ident}/vifs/{vif}. */
export async function detachVif(http: IronicHttp, ident: string, vifId: string, signal?: AbortSignal): Promise<void> {
  await http.request({ method: 'DELETE', path: `/v1/nodes/${enc(ident)}/vifs/${enc(vifId)}`, signal });
}

/** GET /v1/nodes/{ident}/vifs. */
export async function listVifs(http: IronicHttp, ident: string, signal?: AbortSignal): Promise<IronicVif[]> {
  const res = await http.request<{ vifs: IronicVif[] }>({ method: 'GET', path: `/v1/nodes/${enc(ident)}/vifs`, signal });
  return res.body.vifs ?? [];
}
