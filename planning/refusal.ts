// Why a plan cannot be made: raised by planning (at the API, and by explainDataMotion), answered by the API with the
// failure type's error code and this sentence; nothing has been written when it is raised.
import type { FailureType } from '../core/failures';

export class PlanRefused extends Error {
  constructor(
    readonly type: FailureType,
    message: string,
  ) {
    super(message);
    this.name = 'PlanRefused';
  }
}
