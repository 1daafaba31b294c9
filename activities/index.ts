// All activities, built over injected clients. Workflows import only the type of this.
import { createHostActivities, type HostActivityDeps } from './hosts';

export type ActivityDeps = HostActivityDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHostActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
