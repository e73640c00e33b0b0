import type { Control, IronicHttp, Query } from '../http.js';
import { listAll } from '../pagination.js';
import type { IronicNode, JsonPatchOp, ValidateResult } from '../types.js';

const enc = encodeURIComponent;

export interface NodeListOptions extends Control {
  fields?: readonly string[];
  query?: Query;
  limit?: number;
}

/** GET /v1/nodes with filters and `fields`, every page. */
export function listNodes(http: IronicHttp, o: NodeListOptions = {}): Promise<IronicNode[]> {
  return listAll<IronicNode>(http, {
    path: '/v1/nodes',
    key: 'nodes',
    query: { ...o.query, fields: o.fields ? withUuid(o.fields).join(',') : undefined },
    limit: o.limit ?? 1000,
    signal: o.signal,
    retry: o.retry,
  });
}

/** GET /v1/nodes/{ident}: ident is a uuid or a name. */
export async function getNode(http: IronicHttp, ident: string, fields?: readonly string[], c: Control = {}): Promise<IronicNode> {
  const res = await http.request<IronicNode>({
    method: 'GET',
    path: `/v1/nodes/${enc(ident)}`,
    query: { fields: fields ? withUuid(fields).join(',') : undefined },
    ...c,
  });
  return res.body;
}

/** PATCH /v1/nodes/{ident} with a JSON patch; returns the updated node. */
export async function patchNode(http: IronicHttp, ident: string, ops: JsonPatchOp[], c: Control = {}): Promise<IronicNode> {
  const res = await http.request<IronicNode>({ method: 'PATCH', path: `/v1/nodes/${enc(ident)}`, body: ops, ...c });
  return res.body;
}

/** GET /v1/nodes/{ident}/validate: each interface's verdict. */
export async function validateNode(http: IronicHttp, ident: string, c: Control = {}): Promise<ValidateResult> {
  const res = await http.request<ValidateResult>({ method: 'GET', path: `/v1/nodes/${enc(ident)}/validate`, ...c });
  return res.body;
}

/** DELETE /v1/nodes/{ident}/maintenance: out of maintenance (Ironic clears the reason and the fault too). */
export async function clearMaintenance(http: IronicHttp, ident: string, c: Control = {}): Promise<void> {
  await http.request({ method: 'DELETE', path: `/v1/nodes/${enc(ident)}/maintenance`, ...c });
}

function withUuid(fields: readonly string[]): string[] {
  return fields.includes('uuid') ? [...fields] : ['uuid', ...fields];
}
