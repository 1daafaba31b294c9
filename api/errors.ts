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
