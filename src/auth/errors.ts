import { CONNECTION_REFUSALS, reasonOf, type ConnectionRefusalCode } from '../collab/closeReasons.ts';

/**
 * Why a connection or request was refused. Thrown by the auth library and by the connection
 * extensions; Hocuspocus sends `reason` to the provider as a permission-denied message
 * (`onAuthenticationFailed({ reason })`). The code is stable: the editor and the HTTP API branch on
 * it. `reason` starts with the code, so a client can switch on the text before the first colon and
 * show the rest to a person. The codes, their close codes and HTTP statuses are in
 * src/collab/closeReasons.ts, beside every other reason the server gives editors.
 */
export class AuthRefusal extends Error {
  readonly code: ConnectionRefusalCode;
  readonly reason: string;
  readonly closeCode: number;
  readonly httpStatus: number;

  constructor(code: ConnectionRefusalCode, detail: string, options?: { cause?: unknown }) {
    const reason = reasonOf(code, detail);
    super(reason, options);
    this.name = 'AuthRefusal';
    this.code = code;
    this.reason = reason;
    this.closeCode = CONNECTION_REFUSALS[code].closeCode;
    this.httpStatus = CONNECTION_REFUSALS[code].httpStatus;
  }
}

export function refuse(code: ConnectionRefusalCode, detail: string, options?: { cause?: unknown }): AuthRefusal {
  return new AuthRefusal(code, detail, options);
}
