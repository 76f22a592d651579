// Typed errors: each sets `name` and keeps its `cause`, so logs tell what failed and why.

export class ProberError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProberError';
  }
}

/** A command-line flag or environment value that cannot be used. Exit code 2. */
export class UsageError extends ProberError {
  readonly flag: string | undefined;
  constructor(message: string, flag?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
    this.flag = flag;
  }
}

/** The HTTP address cannot be listened on (taken, or not this host's). Says which flag changes it. */
export class ListenError extends ProberError {
  readonly address: string;
  constructor(address: string, flag: string, options: { cause: unknown }) {
    const code = errorCode(options.cause);
    const why =
      code === 'EADDRINUSE' ? 'the address is already in use' :
      code === 'EACCES' ? 'permission denied (a port below 1024 needs privileges)' :
      code === 'EADDRNOTAVAIL' ? 'no such address on this host' :
      errorMessage(options.cause);
    super(`cannot listen on ${address}: ${why}; choose another with ${flag}`, options);
    this.name = 'ListenError';
    this.address = address;
  }
}

/** A file on disk (vol_data.json, the mount table) that is not what it should be. */
export class MalformedFileError extends ProberError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'MalformedFileError';
    this.file = file;
  }
}

/** The probe helper process went away with requests in flight. */
export class HelperLostError extends ProberError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HelperLostError';
  }
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
