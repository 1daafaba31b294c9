// The engine's contract, checked for every plan a workflow type runs: it succeeds calling each step once in order;
// it fails in each call of each step with the undos and failure rows that plan owes (and a failure after the commit
// is only a leftover); it is cancelled in each call with the same undos (and a cancel in the commit or after it
// changes nothing). The runs happen once per file (runAll, in beforeAll); each scenario is its own test.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanOutcome } from '../../core/plan';
import type { PlanCase, PlanWorkflow } from '../workflows/plans';
import { failureRows, successCalls, undoCalls, type ExpectedCall, type StepCall } from './plan-model';
import { leaseIdOf, runAll, urlOf, type CallRecord, type RunResult, type RunSpec } from './plan-runs';
import type { WorkflowEnv } from './workflow-env';

export const heartbeatSeconds = 2;

/** Template and volume the workflows that need one are given (the fixtures' own). */
const templateId = 't1';

/** A plan-running workflow's input for one plan. */
export function inputOf(workflow: PlanWorkflow, plan: Plan): unknown {
  switch (workflow) {
    case 'registerTemplate':
    case 'copyTemplate':
    case 'prepareTemplate':
      return { plans: [plan], heartbeatSeconds };
    case 'deleteTemplate':
      return { plans: [plan], heartbeatSeconds, templateId };
    case 'extractTemplate':
      return { plan, heartbeatSeconds, templateId, zoneId: 'z1' };
    case 'extractVolume':
      return { plan, heartbeatSeconds, volumeId: 'vol-1', zoneId: 'z1' };
    default:
      return { plan, heartbeatSeconds };
  }
}

type Outcome = PlanOutcome | undefined;

/** The plan's outcome in a workflow's result (deleteTemplate reports none). */
export function outcomeOf(workflow: PlanWorkflow, result: unknown): Outcome {
  const r = result as Record<string, unknown>;
  switch (workflow) {
    case 'registerTemplate':
      return (r.transfers as PlanOutcome[])[0];
    case 'copyTemplate':
      return (r.copies as PlanOutcome[])[0];
    case 'prepareTemplate':
      return (r.prepared as PlanOutcome[])[0];
    case 'deleteTemplate':
      return undefined;
    case 'extractTemplate':
      return { url: (r.response as { template: { url: string } }).template.url };
    case 'extractVolume':
      return { url: (r.response as { volume: { url: string } }).volume.url };
    default:
      return result as PlanOutcome;
  }
}

/** What a workflow calls after its plans succeeded. */
export const tailCalls = (workflow: PlanWorkflow): ExpectedCall[] =>
  workflow === 'deleteTemplate' ? [{ name: 'removeTemplateIfEmpty', input: { templateId } }] : [];

const catalogueActivities = new Set([
  'applyTransitions',
  'reserveCacheSpace',
  'markCacheObjectReady',
  'releaseCacheLease',
]);

interface Scenario {
  workflowId: string;
  title: string;
  kind: 'success' | 'fail' | 'cancel';
  /** The call failed or cancelled in, from the successful run. */
  at?: StepCall;
  index?: number;
}

/** Scenarios the engine is known to get wrong: the test is kept, expected to fail, with the reason in its title. */
export type KnownBugs = (c: PlanCase, s: { kind: Scenario['kind']; at?: StepCall }) => string | undefined;

function scenariosOf(c: PlanCase): Scenario[] {
  const calls = successCalls(c.plan, `${c.slug}.success`);
  const where = (s: StepCall, i: number) => {
    const step = c.plan.steps[s.step]!.step;
    return `step ${s.step} ${step}${step === 'commit' ? '' : ` (call ${i}: ${s.name})`}`;
  };
  return [
    {
      workflowId: `${c.slug}.success`,
      title: 'succeeds: every step once, in order, then the commit and clean-up',
      kind: 'success',
    },
    ...calls.map((at, index): Scenario => ({
      workflowId: `${c.slug}.fail${index}`,
      title: `fails in ${where(at, index)}${at.phase === 'after' ? ' after the commit: a leftover, not a failure' : ''}`,
      kind: 'fail',
      at,
      index,
    })),
    ...calls.map((at, index): Scenario => ({
      workflowId: `${c.slug}.cancel${index}`,
      title: `is cancelled in ${where(at, index)}${at.phase === 'before' ? '' : ': which completes regardless'}`,
      kind: 'cancel',
      at,
      index,
    })),
  ];
}

/** The runs of a file's cases: one spec per scenario. */
export function specsOf(cases: PlanCase[]): RunSpec[] {
  return cases.flatMap((c) =>
    scenariosOf(c).map((s) => ({
      workflowId: s.workflowId,
      workflow: c.workflow,
      input: inputOf(c.workflow, c.plan),
      script: {
        cacheObject: c.cacheObject,
        ...(s.kind === 'fail' ? { failAt: s.index } : s.kind === 'cancel' ? { cancelAt: s.index } : {}),
      },
    })),
  );
}

const shape = (calls: CallRecord[]) => calls.map(({ name, input }) => ({ name, input }));

function expectCalls(calls: CallRecord[], expected: ExpectedCall[]) {
  // Names first, for a readable diff; then each input holds what it must.
  expect(calls.map((c) => c.name)).toEqual(expected.map((e) => e.name));
  expect(shape(calls)).toMatchObject(expected.map(({ name, input }) => ({ name, input })));
}

/** Each lease a reservation took was released exactly once (by its release-cache step or by compensation). */
export function expectLeasesReleasedOnce(calls: CallRecord[]) {
  for (const reserve of calls.filter((c) => c.name === 'reserveCacheSpace' && c.end === 'ok')) {
    const leaseId = leaseIdOf(String(reserve.input.storeId), String(reserve.input.key));
    const releases = calls.filter(
      (c) =>
        (c.name === 'releaseCacheLease' && c.input.leaseId === leaseId) ||
        (c.name === 'releaseCacheLeaseOf' &&
          c.input.storeId === reserve.input.storeId &&
          c.input.key === reserve.input.key),
    );
    expect(
      releases.filter((c) => c.end === 'ok'),
      `releases of ${leaseId}`,
    ).toHaveLength(1);
  }
}

function expectFailedWith(run: RunResult, type: 'boom' | 'cancelled') {
  expect(run.error).toBeInstanceOf(WorkflowFailedError);
  const cause = (run.error as WorkflowFailedError).cause;
  if (type === 'boom') {
    expect(run.status).toBe('FAILED');
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ message: 'boom', type: 'HostCommandFailed' });
  } else {
    expect(run.status).toBe('CANCELLED');
    expect(cause).toBeInstanceOf(CancelledFailure);
  }
}

function check(c: PlanCase, s: Scenario, run: RunResult) {
  const success = successCalls(c.plan, s.workflowId);
  const all = [...success, ...tailCalls(c.workflow)];
  const completed = () => {
    expect(run.error, 'the workflow should have completed').toBeUndefined();
    expect(run.status).toBe('COMPLETED');
    expectCalls(run.calls, all);
    return outcomeOf(c.workflow, run.result);
  };
  if (s.kind === 'success') {
    const outcome = completed();
    expect(run.calls.every((call) => call.end === 'ok')).toBe(true);
    expect(outcome?.leftovers).toBeUndefined();
    const url = c.plan.steps.find((step) => step.step === 'extract-url');
    if (url?.step === 'extract-url') expect(outcome?.url).toBe(urlOf(url.key));
  } else if (s.at!.phase === 'before' || (s.kind === 'fail' && s.at!.phase === 'commit')) {
    const reason = s.kind === 'fail' ? 'boom' : 'the job was cancelled';
    expectFailedWith(run, s.kind === 'fail' ? 'boom' : 'cancelled');
    const stopped = run.calls[s.index!];
    const mover = stopped !== undefined && !catalogueActivities.has(stopped.name);
    if (s.kind === 'fail') expect(stopped?.end).toBe('threw');
    // A byte mover is stopped. A catalogue write may be let finish (it is quick) instead: then what it did counts.
    else if (mover) expect(stopped.end).toBe('cancelled');
    else expect(['cancelled', 'ok']).toContain(stopped?.end);
    const landed = s.kind === 'cancel' && stopped?.end === 'ok' ? stopped : undefined;
    expectCalls(run.calls, [
      ...success.slice(0, s.index! + 1),
      ...undoCalls(c.plan, s.at!.step, c.cacheObject, landed),
      ...failureRows(c.plan, reason),
    ]);
    // A byte mover is waited for: nothing is undone while it may still be writing.
    const next = run.calls[s.index! + 1];
    if (s.kind === 'cancel' && next && mover) expect(stopped.endedAt!).toBeLessThan(next.startedAt);
  } else if (s.kind === 'fail') {
    // After the commit: nothing is undone, no failure row written; what could not be cleaned is reported, and a row
    // after it that would record clean-up as done is not written (reported too).
    expect(run.error, 'the workflow should have completed').toBeUndefined();
    expect(run.status).toBe('COMPLETED');
    const skipped = (call: StepCall) =>
      call.phase === 'after' && call.step > s.at!.step && c.plan.steps[call.step]!.step === 'transition';
    expectCalls(run.calls, [...success.filter((call) => !skipped(call)), ...tailCalls(c.workflow)]);
    const outcome = outcomeOf(c.workflow, run.result);
    const step = c.plan.steps[s.at!.step]!.step;
    const notRecorded: unknown[] = success
      .filter(skipped)
      .map((): unknown => expect.stringMatching(/^transition: not recorded/));
    const failed: unknown = expect.stringMatching(new RegExp(`^${step}\\b.*: boom$`));
    expect(outcome?.leftovers).toEqual([failed, ...notRecorded]);
    expect(run.calls[s.index!]!.end).toBe('threw');
  } else {
    // The commit and the clean-up after it are not cancellable: the held call was never told to stop.
    completed();
    expect(run.calls[s.index!]!.end).toBe('ok');
  }
  expectLeasesReleasedOnce(run.calls);
}

/**
 * Registers, for each case, a describe of its scenarios; `extra` runs join the same worker (for a file's own
 * tests, read with the returned lookup).
 */
export function describePlanMatrix(
  env: WorkflowEnv,
  cases: PlanCase[],
  options: { extra?: RunSpec[]; knownBugs?: KnownBugs } = {},
): (workflowId: string) => RunResult {
  let runs = new Map<string, RunResult>();
  beforeAll(async () => {
    runs = await runAll(env, [...specsOf(cases), ...(options.extra ?? [])]);
  });
  const runOf = (workflowId: string) => {
    const run = runs.get(workflowId);
    if (!run) throw new Error(`no run ${workflowId}`);
    if (run.status === 'NEVER_HELD') throw new Error(`${workflowId}: the call to cancel in was never made`);
    if (run.status === 'STUCK') throw new Error(`${workflowId}: the workflow did not end within a minute`);
    return run;
  };
  for (const c of cases) {
    describe(`${c.workflow}: ${c.slug} (${c.plan.strategy ?? 'no data motion'})`, () => {
      for (const s of scenariosOf(c)) {
        const bug = options.knownBugs?.(c, s);
        if (bug) it.fails(`KNOWN ENGINE BUG, ${bug}: ${s.title}`, () => check(c, s, runOf(s.workflowId)));
        else it(s.title, () => check(c, s, runOf(s.workflowId)));
      }
    });
  }
  return runOf;
}
