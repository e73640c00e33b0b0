import type { Control, IronicHttp } from '../http.js';

const enc = encodeURIComponent;

/** POST /v1/nodes/{ident}/vifs (microversion >= 1.28). */
export async function attachVif(http: IronicHttp, ident: string, vifId: string, c: Control = {}): Promise<void> {
  await http.request({ method: 'POST', path: `/v1/nodes/${enc(ident)}/vifs`, body: { id: vifId }, ...c });
}

/** DELETE /v1/nodes/{ident}/vifs/{vif}. */
export async function detachVif(http: IronicHttp, ident: string, vifId: string, c: Control = {}): Promise<void> {
  await http.request({ method: 'DELETE', path: `/v1/nodes/${enc(ident)}/vifs/${enc(vifId)}`, ...c });
}
