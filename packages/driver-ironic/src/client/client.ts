/** The Ironic REST client: the HTTP layer plus microversion negotiation and the endpoints. */
import { IronicHttp, header, type Control, type IronicHttpOptions } from './http.js';
import { IronicApiError, type ResponseHeaders } from './errors.js';
import { MAX_VERSION_HEADER, MIN_VERSION_HEADER, negotiateMicroversion, type VersionRange } from './microversion.js';
import * as nodes from './endpoints/nodes.js';
import * as states from './endpoints/states.js';
import * as vifs from './endpoints/vifs.js';

export class MicroversionMismatchError extends Error {
  override readonly name = 'MicroversionMismatchError';
  constructor(
    readonly wanted: VersionRange,
    readonly server: VersionRange,
  ) {
    super(`Ironic supports API versions ${server.min}..${server.max}; the driver needs ${wanted.min}..${wanted.max}`);
  }
}

export class IronicClient {
  readonly http: IronicHttp;
  readonly nodes = {
    list: (o?: nodes.NodeListOptions) => nodes.listNodes(this.http, o),
    get: (ident: string, fields?: readonly string[], c?: Control) => nodes.getNode(this.http, ident, fields, c),
    patch: (ident: string, ops: Parameters<typeof nodes.patchNode>[2], c?: Control) => nodes.patchNode(this.http, ident, ops, c),
    validate: (ident: string, c?: Control) => nodes.validateNode(this.http, ident, c),
    clearMaintenance: (ident: string, c?: Control) => nodes.clearMaintenance(this.http, ident, c),
  };
  readonly states = {
    provision: (ident: string, target: states.ProvisionTarget, extra?: Parameters<typeof states.setProvisionState>[3], c?: Control) =>
      states.setProvisionState(this.http, ident, target, extra, c),
    power: (ident: string, target: states.PowerTarget, timeoutS?: number, c?: Control) => states.setPowerState(this.http, ident, target, timeoutS, c),
    console: (ident: string, c?: Control) => states.getConsole(this.http, ident, c),
  };
  readonly vifs = {
    attach: (ident: string, vifId: string, c?: Control) => vifs.attachVif(this.http, ident, vifId, c),
    detach: (ident: string, vifId: string, c?: Control) => vifs.detachVif(this.http, ident, vifId, c),
  };

  constructor(options: IronicHttpOptions) {
    this.http = new IronicHttp(options);
  }

  get version(): string | undefined {
    return this.http.version;
  }

  /**
   * Ask the server for its version range (GET /v1/, sending our highest wanted version:
   * both a 200 and a 406 carry the range headers) and fix the version every later request sends.
   */
  async negotiate(wanted: VersionRange, signal?: AbortSignal): Promise<string> {
    let headers: ResponseHeaders;
    try {
      const res = await this.http.request({ method: 'GET', path: '/v1/', version: wanted.max, signal });
      headers = res.headers;
    } catch (e) {
      if (e instanceof IronicApiError && e.kind === 'not-acceptable') headers = e.headers;
      else throw e;
    }
    const server = { min: header(headers, MIN_VERSION_HEADER) ?? '1.1', max: header(headers, MAX_VERSION_HEADER) ?? '1.1' };
    const version = negotiateMicroversion(wanted, server);
    if (version === undefined) throw new MicroversionMismatchError(wanted, server);
    this.http.version = version;
    return version;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

export { IronicApiError } from './errors.js';
export type { IronicNode, JsonPatchOp } from './types.js';
