// An API error: a CloudStack error code and a sentence the caller can act on.
import { CsErrorCode, ErrorCode } from '../core/failures';

export { ErrorCode };

export class ApiError extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  body(): { errorcode: number; cserrorcode: number; errortext: string } {
    return { errorcode: this.errorCode, cserrorcode: CsErrorCode[this.errorCode], errortext: this.message };
  }
}

export const paramError = (message: string) => new ApiError(ErrorCode.ParamError, message);
export const notFound = (kind: string, id: string) =>
  new ApiError(ErrorCode.ParamError, `Unable to find ${kind} with id ${id}; check the id with list${kind}s.`);

/**
 * The X-Description header CloudStack puts on every error answer (CloudMonkey prints it as the error line). A header
 * is one line of plain characters: controls (CR, LF, NUL, ...) become spaces and anything beyond ASCII "?", so no
 * text a caller put in a parameter can split or smuggle headers; a long text is cut.
 */
export function descriptionHeader(text: string): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[^\u0020-\u007e]/gu, '?');
  return line.length > 1024 ? `${line.slice(0, 1021)}...` : line;
}
