/**
 * Which of Ironic's answers are transient: refused before anything happened, so that sending
 * the same request again is safe. The HTTP client is the one retry layer of every call path
 * (core's `withRetry` with the configured `RetryPolicy`, bounded by the call's AbortSignal);
 * nothing above it (the driver, the guard) repeats a request the client already retried.
 */
import { IronicApiError } from './errors.js';

/** Transport failures where the request never reached Ironic. */
const TRANSPORT_REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function refused(err: IronicApiError): boolean {
  const code = (err.cause as { code?: string } | undefined)?.code;
  return code !== undefined && TRANSPORT_REFUSED.has(code);
}

/**
 * The transient answers for a request of `method`: 409 NodeLocked (the conductor holds the
 * node for a running task) and 503 always; any other "unavailable" (a reset connection) only
 * for reads or when the connection was refused, since a mutation may have reached Ironic.
 */
export function transientFor(method: string): (error: unknown) => boolean {
  return (error) =>
    error instanceof IronicApiError &&
    (error.kind === 'node-locked' || (error.kind === 'unavailable' && (error.status === 503 || method === 'GET' || refused(error))));
}
