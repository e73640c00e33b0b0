/**
 * Wire-level errors of the engine client. The driver turns them into contract errors in
 * mapping/errors.ts; nothing here knows about the contract.
 */

/** The engine answered with an HTTP error status. */
export class EngineHttpError extends Error {
  override readonly name = 'EngineHttpError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly engineMessage: string,
  ) {
    super(`${method} ${path} -> ${status}: ${engineMessage}`);
  }
}

/** The engine could not be reached, or the connection broke before an answer came. */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${method} ${path}: engine unreachable (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

/** The caller's AbortSignal fired; `reason` is the signal's (the guard aborts with TIMEOUT or CANCELLED). */
export class EngineAbortedError extends Error {
  override readonly name = 'EngineAbortedError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly reason: unknown,
  ) {
    super(`${method} ${path}: aborted`);
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT', // the socket file is gone (engine stopped)
  'EPIPE',
  'ENOTCONN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Whether a thrown network error means "the engine is not there (any more)". */
export function isConnectionError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Whether a thrown network error is a deadline of the transport passing (the engine silent). */
export function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && TIMEOUT_CODES.has(code);
}
