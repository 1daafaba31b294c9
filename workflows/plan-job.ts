// What every plan-running workflow takes: its plan(s), built once at the API, and the transfers' heartbeat deadline.
import type { Plan } from '../core/plan';

export interface PlanJobInput {
  plan: Plan;
  heartbeatSeconds: number;
}

export interface PlansJobInput {
  /** Independent plans (one per store or pool), run side by side. */
  plans: Plan[];
  heartbeatSeconds: number;
}
