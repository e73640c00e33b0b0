/**
 * Errors of the Ironic REST API, decoded. Wire knowledge only: which contract code an error
 * becomes is decided in mapping/errors.ts, which knows the operation. (A call whose AbortSignal
 * fires rejects with the signal's own DriverError, TIMEOUT or CANCELLED, not with one of these.)
 */

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What kind of failure a response or a transport problem is. */
export type IronicErrorKind =
  | 'bad-request' // 400: wrong state, maintenance, invalid value
  | 'not-found' // 404
  | 'not-acceptable' // 406: microversion not supported
  | 'node-locked' // 409 NodeLocked: retryable
  | 'conflict' // 409 otherwise: already associated, duplicate, ...
  | 'unavailable' // 503 or a connection refused/reset
  | 'server' // 5xx other than 503
  | 'timeout' // no answer within the request timeout
  | 'unexpected'; // any other status

export class IronicApiError extends Error {
  override readonly name = 'IronicApiError';
  constructor(
    readonly kind: IronicErrorKind,
    /** HTTP status, 0 for transport problems. */
    readonly status: number,
    /** Ironic's faultstring / description, or the transport error's message. */
    readonly detail: string,
    readonly method: string,
    readonly path: string,
    options?: { cause?: unknown; headers?: ResponseHeaders },
  ) {
    super(`${method} ${path}: ${status || kind}: ${detail}`, options);
    this.headers = options?.headers ?? {};
  }

  /** The response headers (negotiation reads the version range from a 406). */
  readonly headers: ResponseHeaders;
}

/**
 * Ironic wraps its error in `{"error_message": "<JSON text>"}`: the inner text is itself
 * JSON, `{"faultcode", "faultstring", "debuginfo"}` for API errors or
 * `{"code", "title", "description"}` for 406 (version) errors. Anything else is kept verbatim.
 */
export function decodeErrorBody(raw: string): string {
  let outer: unknown;
  try {
    outer = JSON.parse(raw);
  } catch {
    return raw.trim().slice(0, 2000);
  }
  const message = (outer as { error_message?: unknown } | null)?.error_message;
  if (typeof message === 'string') {
    try {
      const inner = JSON.parse(message) as { faultstring?: unknown; description?: unknown; title?: unknown };
      if (typeof inner.faultstring === 'string') return inner.faultstring;
      if (typeof inner.description === 'string') return inner.description;
      if (typeof inner.title === 'string') return inner.title;
    } catch {
      return message;
    }
    return message;
  }
  if (message && typeof message === 'object') {
    const inner = message as { faultstring?: unknown; description?: unknown };
    if (typeof inner.faultstring === 'string') return inner.faultstring;
    if (typeof inner.description === 'string') return inner.description;
  }
  return raw.trim().slice(0, 2000);
}

/** Ironic answers 409 both for a node locked by a running task and for real conflicts. */
function isNodeLockedMessage(detail: string): boolean {
  return /is locked by host|NodeLocked|please retry after the current operation/i.test(detail);
}

export function kindOfStatus(status: number, detail: string): IronicErrorKind {
  if (status === 400) return 'bad-request';
  if (status === 404) return 'not-found';
  if (status === 406) return 'not-acceptable';
  if (status === 409) return isNodeLockedMessage(detail) ? 'node-locked' : 'conflict';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'server';
  return 'unexpected';
}

/** Ironic's 400 for an action the node's provision state does not allow. */
export function isWrongStateMessage(detail: string): boolean {
  return /can ?not be performed on node .* while it is in state|is not in .*state|in state ".*" which is not|Can not .* while .*state/i.test(detail);
}

/** Ironic's 400 for a node in maintenance. */
export function isMaintenanceMessage(detail: string): boolean {
  return /maintenance/i.test(detail);
}
