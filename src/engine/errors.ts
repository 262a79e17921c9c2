// Errors that reach a user say what happened and what to do about it.

export type EngineErrorKind =
  | 'config' // a setting, DOCKER_* variable or config file is wrong
  | 'context' // a docker context does not exist or cannot be read
  | 'tls' // TLS material missing or the handshake failed
  | 'unreachable' // nothing answers at the endpoint
  | 'permission' // the socket exists but we may not use it
  | 'timeout' // the engine did not answer in time
  | 'cancelled' // the caller cancelled
  | 'notSwarm' // the engine is not part of a swarm
  | 'notManager' // the engine is a swarm worker
  | 'notFound' // the object does not exist (any more)
  | 'imageMissing' // a helper image is not on the node and cannot be pulled
  | 'toolMissing' // the helper image lacks the program asked for
  | 'engine'; // the engine answered with an error

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    /** What the user can do, in one sentence. */
    readonly hint?: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  /** Message and hint together, for a CLI line or a tree item's tooltip. */
  get fullMessage(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

export function isEngineError(error: unknown): error is EngineError {
  return error instanceof EngineError;
}

export function isCancelled(error: unknown): boolean {
  return error instanceof EngineError && error.kind === 'cancelled';
}

/** Any thrown value as an EngineError (unknown errors become kind "engine"). */
export function asEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  return new EngineError('engine', error instanceof Error ? error.message : String(error));
}
