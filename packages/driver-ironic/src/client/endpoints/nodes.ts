import type { IronicHttp, Query } from '../http.js';
import { listAll } from '../pagination.js';
import type { IronicNode, JsonPatchOp, ValidateResult } from '../types.js';

const enc = encodeURIComponent;

export interface NodeListOptions {
  fields?: readonly string[];
  query?: Query;
  limit?: number;
  signal?: AbortSignal;
}

/** GET /v1/nodes with filters and `fields`, every page. */
export function listNodes(http: IronicHttp, o: NodeListOptions = {}): Promise<IronicNode[]> {
  return listAll<IronicNode>(http, {
    path: '/v1/nodes',
    key: 'nodes',
    query: { ...o.query, fields: o.fields ? withUuid(o.fields).join(',') : undefined },
    limit: o.limit ?? 1000,
    signal: o.signal,
  });
}

/** GET /v1/nodes/{ident}: ident is a uuid or a name. */
export async function getNode(http: IronicHttp, ident: string, fields?: readonly string[], signal?: AbortSignal): Promise<IronicNode> {
  const res = await http.request<IronicNode>({
    method: 'GET',
    path: `/v1/nodes/${enc(ident)}`,
    query: { fields: fields ? withUuid(fields).join(',') : undefined },
    signal,
  });
  return res.body;
}

/** PATCH /v1/nodes/{ident} with a JSON patch; returns the updated node. */
export async function patchNode(http: IronicHttp, ident: string, ops: JsonPatchOp[], signal?: AbortSignal): Promise<IronicNode> {
  const res = await http.request<IronicNode>({ method: 'PATCH', path: `/v1/nodes/${enc(ident)}`, body: ops, signal });
  return res.body;
}

/** GET /v1/nodes/{ident}/validate: each interface's verdict. */
export async function validateNode(http: IronicHttp, ident: string, signal?: AbortSignal): Promise<ValidateResult> {
  const res = await http.request<ValidateResult>({ method: 'GET', path: `/v1/nodes/${enc(ident)}/validate`, signal });
  return res.body;
}

function withUuid(fields: readonly string[]): string[] {
  return fields.includes('uuid') ? [...fields] : ['uuid', ...fields];
}
