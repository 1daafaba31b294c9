// The one engine that runs a plan (core/plan.ts). Before the commit, each step that succeeds registers its undo (its
// lease's release, for steps inside a lease); on failure or cancellation the undos run newest first and the plan's
// failure rows are written, both in a scope cancellation cannot interrupt. The commit's writes happen in one
// transaction; after it nothing is ever undone: the remaining steps are clean-up, retried until done, and what they
// cannot do is reported as a leftover. No workflow writes saga code of its own.
import { CancellationScope, isCancellation, log, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CleanupStep, Plan, PlanFacts, PlanOutcome, PlanStep, Transition } from '../core/plan';
import { catalogue, cleanup, compensation, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';

/** A cache lease outlives the steps it protects; past this a dead worker's lease expires and frees the space. */
const CACHE_LEASE_SECONDS = 6 * 3600;

export interface RunOptions {
  heartbeatSeconds: number;
  /** Called after each step with the steps done and the total (a workflow's progress query). */
  onStep?: (done: number, total: number) => void;
  /** Shows what the plan is doing now (by default as the run's current details in the Temporal UI). */
  show?: (line: string) => void;
}

interface Undo {
  what: string;
  run: () => Promise<unknown>;
  /** The lease this undo releases, so `release-cache` can take it off the stack. */
  lease?: string;
}

interface Lease {
  leaseId: string;
  storeId: string;
  key: string;
}

/** Runs one step on the given activities; returns what it learned. */
async function runStep(
  acts: Activities,
  step: Exclude<PlanStep, { step: 'reserve-cache' | 'release-cache' | 'transition' | 'commit' }>,
  plan: Plan,
  outcome: PlanOutcome,
): Promise<PlanOutcome> {
  // Transfers save progress on the plan's row, unless they only stage into a leased cache store.
  const progress = step.lease || !plan.progressRow ? {} : { progressRow: plan.progressRow };
  switch (step.step) {
    case 'download':
      return transferFacts(await acts.downloadToStore({ ...step, ...progress }));
    case 'stream-between-stores':
      return transferFacts(await acts.streamBetweenStores({ ...step, ...progress }));
    case 'host-push':
      return transferFacts(await acts.hostPush({ ...step, ...progress }));
    case 'copy-within-store':
      return { size: (await acts.copyWithinStore(step)).size };
    case 'host-copy-to-path':
      return transferFacts(await acts.hostCopyToPath(step));
    case 'host-fetch-convert': {
      // A verified conversion also checks that the bytes it read are the ones the step before sent.
      const sent = step.verify && outcome.sha256 ? { expectSha256: outcome.sha256 } : {};
      const converted = await acts.hostFetchConvert({ ...step, ...sent });
      return { size: converted.virtualSize, physicalSize: converted.physicalSize };
    }
    case 'create-blank-disk': {
      const made = await acts.createBlankDisk(step);
      return { size: made.size, physicalSize: made.physicalSize };
    }
    case 'snapshot-on-primary':
      return { size: (await acts.snapshotOnPrimary(step)).size };
    case 'export-snapshot':
      return { physicalSize: (await acts.exportSnapshotFile(step)).physicalSize };
    case 'extract-url':
      return { url: await acts.extractUrl(step) };
    default:
      await runCleanup(acts, step);
      return {};
  }
}

async function runCleanup(acts: Activities, step: CleanupStep): Promise<void> {
  switch (step.step) {
    case 'remove-store-object':
      return await acts.removeStoreObject(step);
    case 'remove-pool-file':
      return await acts.removePoolFile(step);
    case 'remove-pool-file-of':
      return await acts.removePoolFileOf(step);
    case 'remove-snapshot-on-primary':
      return await acts.removeSnapshotOnPrimary(step);
    case 'remove-snapshot-export':
      return await acts.removeSnapshotExport(step);
  }
}

/** A transfer's facts: its bytes are what it stored; a download also says the image's virtual size. */
function transferFacts(result: {
  size: number;
  sha256: string;
  virtualSize?: number;
  resumedParts?: number;
  partsSent?: number;
}): PlanOutcome {
  return { ...result, physicalSize: result.size };
}

const describe = (step: PlanStep): string => {
  const { step: name, ...rest } = step;
  const where = 'key' in rest ? rest.key : 'path' in rest ? rest.path : 'fileName' in rest ? rest.fileName : '';
  return where ? `${name} ${String(where)}` : name;
};

const facts = ({ size, sha256, physicalSize, virtualSize }: PlanOutcome): PlanFacts => ({
  size,
  sha256,
  physicalSize,
  virtualSize,
});

/** Runs the plan to its end; on failure or cancellation undoes what it made, writes its failure rows and throws. */
export async function runPlan(plan: Plan, options: RunOptions): Promise<PlanOutcome> {
  const acts = movers(options.heartbeatSeconds);
  const undos: Undo[] = [];
  const leases = new Map<string, Lease>();
  let outcome: PlanOutcome = {};
  const total = plan.steps.length;
  const show = options.show ?? setCurrentDetails;
  let index = 0;
  try {
    for (; index < total; index++) {
      const step = plan.steps[index]!;
      if (step.step === 'commit') break;
      show(`${plan.summary}: step ${index + 1} of ${total}, ${describe(step)}`);
      switch (step.step) {
        case 'transition':
          await catalogue.applyTransitions({ transitions: step.transitions, facts: facts(outcome) });
          break;
        case 'reserve-cache': {
          const holder = workflowInfo().workflowId;
          // The undo is registered first, by holder and key: a reservation that lands after a cancellation (a
          // database write the engine did not wait for) is released too. What it staged goes, unless it is a
          // template Ready on the cache (reused, or whole): that stays for later copies, evicted by LRU.
          undos.push({
            what: `release the cache lease of ${step.key}`,
            lease: step.lease,
            run: () => compensation.releaseCacheLeaseOf({ storeId: step.storeId, holder, key: step.key }),
          });
          const reserved = await catalogue.reserveCacheSpace({
            storeId: step.storeId,
            holder,
            key: step.key,
            bytes: step.bytes,
            objectType: step.objectType,
            objectId: step.objectId,
            ttlSeconds: CACHE_LEASE_SECONDS,
          });
          leases.set(step.lease, { leaseId: reserved.leaseId, storeId: step.storeId, key: step.key });
          break;
        }
        case 'release-cache': {
          const lease = leases.get(step.lease);
          if (!lease) break;
          if (step.keepObject) await catalogue.markCacheObjectReady({ storeId: lease.storeId, key: lease.key });
          await catalogue.releaseCacheLease({ leaseId: lease.leaseId, keepObject: step.keepObject });
          leases.delete(step.lease);
          // Released: its undo is no longer this plan's to run.
          const at = undos.findIndex((u) => u.lease === step.lease);
          if (at >= 0) undos.splice(at, 1);
          break;
        }
        default: {
          // The undo is registered before the step runs: a step that fails half way may have made part of its
          // output, and every undo is safe to run when there is nothing to remove.
          const { undo, lease } = step;
          if (undo && !lease) undos.push({ what: describe(undo), run: () => runCleanup(compensation, undo) });
          const learned = await runStep(acts, step, plan, outcome);
          outcome = { ...outcome, ...learned };
          const staged = lease ? leases.get(lease) : undefined;
          if (staged) {
            await catalogue.markCacheObjectReady({ storeId: staged.storeId, key: staged.key, size: learned.size });
          }
        }
      }
      options.onStep?.(index + 1, total);
    }
    const commit = plan.steps[index];
    if (commit?.step === 'commit') {
      // Once started the commit is finished, whatever a cancellation says: it is one transaction.
      await CancellationScope.nonCancellable(() =>
        catalogue.applyTransitions({ transitions: commit.transitions, facts: facts(outcome) }),
      );
      index++;
      options.onStep?.(index, total);
    }
  } catch (err) {
    show(`${plan.summary}: undoing ${undos.length} step(s) after step ${index + 1}: ${failureReason(err)}`);
    await CancellationScope.nonCancellable(() => compensate(undos, plan.onFailure, err, outcome));
    show(`${plan.summary}: ${isCancellation(err) ? 'cancelled' : 'failed'}, undone`);
    throw isCancellation(err) ? err : asWorkflowFailure(err);
  }
  show(`${plan.summary}: committed${index < total ? ', cleaning up' : ''}`);
  const done = await cleanUp(plan.steps.slice(index), outcome, options);
  show(`${plan.summary}: done${done.leftovers ? `, ${done.leftovers.length} clean-up step(s) left over` : ''}`);
  return done;
}

/** Undos newest first (one failing does not stop the rest), then the rows that say the plan failed, and why. */
async function compensate(undos: Undo[], onFailure: Transition[], err: unknown, outcome: PlanOutcome) {
  for (const undo of undos.reverse()) {
    try {
      await undo.run();
    } catch (undoErr) {
      log.error('compensation failed', { what: undo.what, error: failureReason(undoErr) });
    }
  }
  const reason = isCancellation(err) ? 'the job was cancelled' : failureReason(err);
  if (onFailure.length === 0) return;
  try {
    await catalogue.applyTransitions({ transitions: onFailure, facts: facts(outcome), errorText: reason });
  } catch (writeErr) {
    // The job's own failure is what it reports; a row that could not say so is logged loudly.
    log.error('the failure rows could not be written', { reason, error: failureReason(writeErr) });
  }
}

/** After the commit: clean-up steps only, each retried until done; what cannot be done is reported, never undone. */
async function cleanUp(steps: PlanStep[], outcome: PlanOutcome, options: RunOptions): Promise<PlanOutcome> {
  const leftovers: string[] = [];
  const acts = cleanup(options.heartbeatSeconds);
  for (const step of steps) {
    // A row records what clean-up did: after a clean-up step that could not be done, it is not written.
    if (step.step === 'transition' && leftovers.length > 0) {
      leftovers.push(`${describe(step)}: not recorded, as the clean-up before it was not done`);
      continue;
    }
    try {
      await CancellationScope.nonCancellable(async () => {
        if (step.step === 'transition') await catalogue.applyTransitions({ transitions: step.transitions });
        else if (isCleanup(step)) await runCleanup(acts, step);
        else throw new Error(`${step.step} cannot run after the commit: only clean-up can`);
      });
    } catch (err) {
      leftovers.push(`${describe(step)}: ${failureReason(err)}`);
      log.warn('clean-up after the commit could not be done', { step: describe(step), reason: failureReason(err) });
    }
  }
  return leftovers.length > 0 ? { ...outcome, leftovers } : outcome;
}

const cleanupSteps = new Set<string>([
  'remove-store-object',
  'remove-pool-file',
  'remove-pool-file-of',
  'remove-snapshot-on-primary',
  'remove-snapshot-export',
]);
const isCleanup = (step: PlanStep): step is CleanupStep => cleanupSteps.has(step.step);

/** Runs independent plans side by side (one per store or pool); each ends on its own, the job fails if any did. */
export async function runPlans(plans: Plan[], options: RunOptions): Promise<PlanOutcome[]> {
  // Side by side, each plan has its own line in the run's current details.
  const lines = plans.map((p) => `${p.summary}: waiting`);
  const showLine = (i: number) => (line: string) => {
    lines[i] = line;
    (options.show ?? setCurrentDetails)(lines.join('\n\n'));
  };
  const settled = await Promise.allSettled(plans.map((plan, i) => runPlan(plan, { ...options, show: showLine(i) })));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<PlanOutcome>).value);
}
