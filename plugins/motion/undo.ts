// What each motion step creates, and the step that removes it: a fact of the step's kind, so the registry attaches
// it to every step a strategy plans (and explainDataMotion shows it). A step inside a lease scope is left without
// one: what it staged goes when its lease ends.
import type { CleanupStep, MotionStep } from '../../core/plan';

export function undoOf(step: MotionStep): CleanupStep | undefined {
  switch (step.step) {
    case 'download':
    case 'host-push':
      return { step: 'remove-store-object', storeId: step.storeId, key: step.key };
    case 'copy-within-store':
      return { step: 'remove-store-object', storeId: step.storeId, key: step.toKey };
    case 'stream-between-stores':
      return { step: 'remove-store-object', storeId: step.toStoreId, key: step.toKey };
    case 'host-fetch-convert':
      return { step: 'remove-pool-file', hostId: step.hostId, path: `${step.poolPath}/${step.fileName}` };
    case 'host-copy-to-path':
      return { step: 'remove-pool-file', hostId: step.hostId, path: step.toPath };
    default:
      return undefined;
  }
}

export function withUndos(steps: MotionStep[]): MotionStep[] {
  return steps.map((step) => {
    const undo = step.lease ? undefined : undoOf(step);
    return undo ? { ...step, undo } : step;
  });
}
