/** The Ironic REST client: the HTTP layer plus microversion negotiation and the endpoints. */
import { IronicHttp, header, type IronicHttpOptions } from './http.js';
import { IronicApiError } from './errors.js';
import { MAX_VERSION_HEADER, MIN_VERSION_HEADER, negotiateMicroversion, type VersionRange } from './microversion.js';
import * as nodes from './endpoints/nodes.js';
import * as states from './endpoints/states.js';
import * as vifs from './endpoints/vifs.js';
import * as ports from './endpoints/ports.js';
import * as drivers from './endpoints/drivers.js';

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
    get: (ident: string, fields?: readonly string[], signal?: AbortSignal) => nodes.getNode(this.http, ident, fields, signal),
    patch: (ident: string, ops: Parameters<typeof nodes.patchNode>[2], signal?: AbortSignal) => nodes.patchNode(this.http, ident, ops, signal),
    validate: (ident: string, signal?: AbortSignal) => nodes.validateNode(this.http, ident, signal),
  };
  readonly states = {
    provision: (ident: string, target: states.ProvisionTarget, extra?: Parameters<typeof states.setProvisionState>[3], signal?: AbortSignal) =>
      states.setProvisionState(this.http, ident, target, extra, signal),
    power: (ident: string, target: states.PowerTarget, timeoutS?: number, signal?: AbortSignal) =>
      states.setPowerState(this.http, ident, target, timeoutS, signal),
    console: (ident: string, signal?: AbortSignal) => states.getConsole(this.http, ident, signal),
  };
  readonly vifs = {
    attach: (ident: string, vifId: string, signal?: AbortSignal) => vifs.attachVif(this.http, ident, vifId, signal),
    detach: (ident: string, vifId: string, signal?: AbortSignal) => vifs.detachVif(this.http, ident, vifId, signal),
    list: (ident: string, signal?: AbortSignal) => vifs.listVifs(this.http, ident, signal),
  };
  readonly ports = { list: (node: string, signal?: AbortSignal) => ports.listPorts(this.http, node, signal) };
  readonly drivers = { list: (signal?: AbortSignal) => drivers.listDrivers(this.http, signal) };

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
    let headers: Record<string, string | string[] | undefined>;
    try {
      const res = await this.http.request({ method: 'GET', path: '/v1/', version: wanted.max, signal });
      headers = res.headers;
    } catch (e) {
      if (e instanceof IronicApiError && e.kind === 'not-acceptable') headers = (e as unknown as { headers: typeof headers }).headers ?? {};
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
