/**
 * Why a connection or request was refused. The code is stable: the editor and the HTTP API branch
 * on it. The provider sees `reason`, which starts with the code, so a client can switch on the text
 * before the first colon and show the rest to a person.
 */
export type RefusalCode =
  | 'invalid-token'
  | 'token-expired'
  | 'unknown-user'
  | 'invalid-scene-id'
  | 'invalid-script-id'
  | 'unknown-scene'
  | 'unknown-script'
  | 'no-access'
  | 'outdated-editor'
  | 'auth-unavailable';

interface RefusalKind {
  /** WebSocket close code, for a caller that closes a socket over the refusal. */
  closeCode: number;
  /** HTTP status, for the HTTP API. */
  httpStatus: number;
}

export const REFUSALS: Readonly<Record<RefusalCode, RefusalKind>> = {
  'invalid-token': { closeCode: 4401, httpStatus: 401 },
  'token-expired': { closeCode: 4401, httpStatus: 401 },
  'unknown-user': { closeCode: 4401, httpStatus: 401 },
  'invalid-scene-id': { closeCode: 4400, httpStatus: 400 },
  'invalid-script-id': { closeCode: 4400, httpStatus: 400 },
  'unknown-scene': { closeCode: 4404, httpStatus: 404 },
  'unknown-script': { closeCode: 4404, httpStatus: 404 },
  'no-access': { closeCode: 4403, httpStatus: 403 },
  'outdated-editor': { closeCode: 4426, httpStatus: 426 },
  // A database error while deciding; the client may retry. Never a reason to grant access.
  'auth-unavailable': { closeCode: 4503, httpStatus: 503 },
};

/**
 * Thrown by the auth library and by the connection extensions. Hocuspocus sends `reason` to the
 * provider as a permission-denied message (`onAuthenticationFailed({ reason })`).
 */
export class AuthRefusal extends Error {
  readonly code: RefusalCode;
  readonly reason: string;
  readonly closeCode: number;
  readonly httpStatus: number;

  constructor(code: RefusalCode, detail: string, options?: { cause?: unknown }) {
    const reason = `${code}: ${detail}`;
    super(reason, options);
    this.name = 'AuthRefusal';
    this.code = code;
    this.reason = reason;
    this.closeCode = REFUSALS[code].closeCode;
    this.httpStatus = REFUSALS[code].httpStatus;
  }
}

export function refuse(code: RefusalCode, detail: string, options?: { cause?: unknown }): AuthRefusal {
  return new AuthRefusal(code, detail, options);
}

/** The stable code at the start of a refusal reason (`"no-access: ..."` -> `"no-access"`). */
export function refusalCodeOf(reason: string): string {
  const colon = reason.indexOf(':');
  return colon === -1 ? reason : reason.slice(0, colon);
}
