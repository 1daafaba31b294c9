// What running a plan must call, from the plan alone (core/plan.ts's contract, not the engine's code): the steps in
// order, the commit, the clean-up after it; on a failure or cancel before the commit, the undos of the steps that had
// started, newest first (a lease's release instead of the undos of what it staged, unless its release-cache step had
// already ended it), then the plan's failure rows with the reason.
import { expect } from 'vitest';
import type { CleanupStep, Plan, PlanStep } from '../../core/plan';
import { leaseIdOf, results } from './plan-runs';

export interface ExpectedCall {
  name: string;
  /** A subset of the call's input. */
  input: Record<string, unknown>;
}

export interface StepCall extends ExpectedCall {
  /** Index of the plan step this call belongs to. */
  step: number;
  phase: 'before' | 'commit' | 'after';
}

type ActivityStep = Exclude<PlanStep, { step: 'transition' | 'commit' | 'reserve-cache' | 'release-cache' }>;

/** The activity that does each kind of step (and each undo, which are the same removal steps). */
export const activityOf: Record<ActivityStep['step'], string> = {
  download: 'downloadToStore',
  'stream-between-stores': 'streamBetweenStores',
  'host-push': 'hostPush',
  'copy-within-store': 'copyWithinStore',
  'host-copy-to-path': 'hostCopyToPath',
  'host-fetch-convert': 'hostFetchConvert',
  'create-blank-disk': 'createBlankDisk',
  'snapshot-on-primary': 'snapshotOnPrimary',
  'export-snapshot': 'exportSnapshotFile',
  'extract-url': 'extractUrl',
  'remove-store-object': 'removeStoreObject',
  'remove-pool-file': 'removePoolFile',
  'remove-pool-file-of': 'removePoolFileOf',
  'remove-snapshot-on-primary': 'removeSnapshotOnPrimary',
  'remove-snapshot-export': 'removeSnapshotExport',
};

/** The size a step learns (what a leased step's object is marked Ready with). */
const sizeLearned: Partial<Record<ActivityStep['step'], number>> = {
  'stream-between-stores': results.stream.size,
  'host-copy-to-path': results.copyToPath.size,
  download: results.download.size,
};

const transfers = new Set(['download', 'stream-between-stores', 'host-push']);

/** As an activity receives it: through JSON, where an undefined field is no field. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const removal = (step: CleanupStep): ExpectedCall => ({ name: activityOf[step.step], input: wire({ ...step }) });

interface Lease {
  leaseId: string;
  storeId: string;
  key: string;
}

/** Every call of a plan that succeeds, tagged with its step. */
export function successCalls(plan: Plan, holder: string): StepCall[] {
  const calls: StepCall[] = [];
  const leases = new Map<string, Lease>();
  let phase: StepCall['phase'] = 'before';
  plan.steps.forEach((step, index) => {
    const add = (name: string, input: Record<string, unknown>) =>
      calls.push({ name, input: wire(input), step: index, phase });
    if (step.step === 'commit') {
      phase = 'commit';
      add('applyTransitions', { transitions: step.transitions });
      phase = 'after';
      return;
    }
    switch (step.step) {
      case 'transition':
        return add('applyTransitions', { transitions: step.transitions });
      case 'reserve-cache': {
        const { storeId, key, bytes, objectType, objectId } = step;
        leases.set(step.lease, { leaseId: leaseIdOf(storeId, key), storeId, key });
        return add('reserveCacheSpace', { storeId, key, bytes, objectType, objectId, holder });
      }
      case 'release-cache': {
        const lease = leases.get(step.lease)!;
        if (step.keepObject) add('markCacheObjectReady', { storeId: lease.storeId, key: lease.key });
        return add('releaseCacheLease', { leaseId: lease.leaseId, keepObject: step.keepObject });
      }
      default: {
        const progress =
          phase === 'before' && transfers.has(step.step) && !step.lease && plan.progressRow
            ? { progressRow: plan.progressRow }
            : {};
        add(activityOf[step.step], { ...step, ...progress });
        const lease = step.lease ? leases.get(step.lease) : undefined;
        if (lease)
          add('markCacheObjectReady', { storeId: lease.storeId, key: lease.key, size: sizeLearned[step.step] });
      }
    }
  });
  return calls;
}

/**
 * The undos owed when the plan stops in step `failed` (before its commit, or in it), newest first. `_landed`: the
 * call it stopped in completed after all (a catalogue write that finished although the job was cancelled); the
 * undos owed are the same, as a reservation's is registered before it runs and a release's taken off only after.
 */
export function undoCalls(
  plan: Plan,
  failed: number,
  cacheObject: 'Creating' | 'Ready',
  _landed: { name: string } | undefined = undefined,
): ExpectedCall[] {
  const owed: { lease?: string; call: ExpectedCall }[] = [];
  plan.steps.slice(0, failed + 1).forEach((step, index) => {
    const done = index < failed;
    if (step.step === 'reserve-cache') {
      // Registered before the reservation runs, by holder and key: owed whether or not the reservation landed.
      const release = { storeId: step.storeId, holder: expect.any(String) as unknown, key: step.key };
      owed.push({ lease: step.lease, call: { name: 'releaseCacheLeaseOf', input: release } });
    } else if (step.step === 'release-cache') {
      // Once the lease's own release returned, its undo is off the stack.
      const at = owed.findIndex((o) => o.lease === step.lease);
      if (done && at >= 0) owed.splice(at, 1);
    } else if (step.step !== 'transition' && step.step !== 'commit' && step.undo && !step.lease) {
      // Registered before its step runs: a step that failed half way may have made part of its output.
      owed.push({ call: removal(step.undo) });
    }
  });
  return owed.reverse().map((o) => o.call);
}

export const failureRows = (plan: Plan, reason: string): ExpectedCall[] =>
  plan.onFailure.length > 0
    ? [{ name: 'applyTransitions', input: { transitions: plan.onFailure, errorText: expect.stringContaining(reason) } }]
    : [];
