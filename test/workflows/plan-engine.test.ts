// Every plan-running workflow type on the time-skipping server with mocked activities, for every plan fixture
// (test/workflows/plans.ts, built by the real builders): success, failure in each step and cancel in each step (the
// matrix, test/support/plan-matrix.ts), then what the matrix does not show: the facts each write records, copies
// failing on their own, verified conversions, undos that fail, and the engine's known bugs. One file so the
// ~240 runs share one test server, one bundle and one worker.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../core/plan';
import { registerTemplatePlan } from '../../planning/jobs/templates';
import { describePlanMatrix, expectLeasesReleasedOnce, heartbeatSeconds, inputOf } from '../support/plan-matrix';
import { successCalls } from '../support/plan-model';
import { results } from '../support/plan-runs';
import { useWorkflowEnv } from '../support/workflow-env';
import { planCases, planOf, routeVia } from './plans';

const env = useWorkflowEnv();

const url = 'http://127.0.0.1:9/images/t1.qcow2';
const toS3 = await registerTemplatePlan(routeVia('url-to-store'), { templateId: 't1', url, refId: 'tref-s3' });
const toNfs = await registerTemplatePlan(routeVia('url-to-store'), { templateId: 't1', url, refId: 'tref-nfs' });
const viaCache = planOf('create-xen-from-snapshot');
const snapshot = planOf('snapshot-kvm-to-s3');

/** The index of the first call named `name` when `plan` succeeds. */
const callOf = (plan: Plan, name: string) => successCalls(plan, '').findIndex((c) => c.name === name);

const transitionsOf = (plan: Plan, at: number) => {
  const step = plan.steps[at];
  if (step?.step !== 'transition' && step?.step !== 'commit') throw new Error(`step ${at} writes no rows`);
  return step.transitions;
};
const commitOf = (plan: Plan) =>
  transitionsOf(
    plan,
    plan.steps.findIndex((s) => s.step === 'commit'),
  );

const runOf = describePlanMatrix(env, planCases, {
  extra: [
    {
      workflowId: 'register-two-stores',
      workflow: 'registerTemplate',
      input: { plans: [toS3, toNfs], heartbeatSeconds },
      script: { failWhen: (name, input) => name === 'downloadToStore' && input.storeId === 'store-s3' },
    },
    {
      // Cancelled while reserving cache space, and the reservation (a database write that does not heartbeat, so
      // it never hears of the cancel) still lands.
      workflowId: 'reservation-lands-after-cancel',
      workflow: 'createVolume',
      input: inputOf('createVolume', viaCache),
      script: { cancelAt: callOf(viaCache, 'reserveCacheSpace'), landsAnyway: true },
    },
    {
      // Releasing the cache lease fails, and then the undo of the converted disk fails too.
      workflowId: 'undo-fails',
      workflow: 'createVolume',
      input: inputOf('createVolume', viaCache),
      script: { failAt: callOf(viaCache, 'releaseCacheLease'), failWhen: (name) => name === 'removePoolFile' },
    },
  ],
});

describe('template plans, beyond the matrix', () => {
  it('registerTemplate saves progress on the copy, and records the size and SHA-256 it learned at the commit', () => {
    const run = runOf('register-url-to-s3.success');
    const [, download, commit] = run.calls;
    expect(download).toMatchObject({
      name: 'downloadToStore',
      input: { progressRow: { kind: 'templateStoreRef', id: 'tref-s3' } },
    });
    const { size, sha256 } = results.download;
    expect(commit).toMatchObject({ name: 'applyTransitions', input: { facts: { size, sha256, physicalSize: size } } });
    expect(run.result).toEqual({ transfers: [{ ...results.download, physicalSize: size }] });
  });

  it('registerTemplate to two stores: the failed copy is undone and Failed, the other one is still committed', () => {
    const run = runOf('register-two-stores');
    expect(run.status).toBe('FAILED');
    const writes = run.calls.filter((c) => c.name === 'applyTransitions' && c.input.errorText === undefined);
    expect(writes.map((c) => c.input.transitions)).toContainEqual(commitOf(toNfs));
    expect(writes.map((c) => c.input.transitions)).not.toContainEqual(commitOf(toS3));
    expect(run.calls.filter((c) => c.name === 'removeStoreObject').map((c) => c.input.storeId)).toEqual(['store-s3']);
    const failed = run.calls.filter((c) => c.input.errorText !== undefined);
    expect(failed).toMatchObject([
      { name: 'applyTransitions', input: { transitions: toS3.onFailure, errorText: 'boom' } },
    ]);
  });

  it('prepareTemplate through a cache: staging saves no progress, marks the staged object Ready with its size', () => {
    const run = runOf('prepare-s3-to-xen-via-cache.success');
    const stream = run.calls.find((c) => c.name === 'streamBetweenStores')!;
    expect(stream.input).toMatchObject({ toStoreId: 'cache-nfs', lease: 'staging' });
    expect(stream.input).not.toHaveProperty('progressRow');
    expect(run.calls[run.calls.indexOf(stream) + 1]).toMatchObject({
      name: 'markCacheObjectReady',
      input: { storeId: 'cache-nfs', size: results.stream.size },
    });
    // The host converts from the cache store it mounts; the pool copy's size is what the conversion made.
    expect(run.calls.find((c) => c.name === 'hostFetchConvert')!.input).toMatchObject({
      hostId: 'host-xen-1',
      source: { path: '/mnt/cache-a/cache/template/t1/t1.qcow2' },
      targetFormat: 'VHD',
    });
    expect(run.calls.at(-1)).toMatchObject({ input: { facts: { size: results.fetchConvert.virtualSize } } });
  });

  it('prepareTemplate from a template already staged: a failure releases the lease but keeps the staged copy', () => {
    const run = runOf('prepare-xen-from-staged.fail2');
    expect(run.calls.find((c) => c.name === 'streamBetweenStores')).toBeUndefined();
    // Released once, by holder and key; the activity keeps a Ready template (e2e: test/e2e/cache-stores).
    expect(run.calls.filter((c) => c.name.startsWith('releaseCacheLease'))).toMatchObject([
      { name: 'releaseCacheLeaseOf', input: { storeId: 'cache-nfs' } },
    ]);
  });

  it('deleteTemplate cancelled in its commit: the copy is still Destroyed, once, and nothing is undone', () => {
    const run = runOf(`delete-store-copy.cancel${callOf(planOf('delete-store-copy'), 'applyTransitions')}`);
    const writes = run.calls.filter((c) => c.name === 'applyTransitions');
    expect(writes).toMatchObject([{ input: { transitions: commitOf(planOf('delete-store-copy')) }, end: 'ok' }]);
  });
});

describe('volume plans, beyond the matrix', () => {
  it('a conversion through a transit store checks the SHA-256 of what the upload sent; within a cluster none', () => {
    const convert = (slug: string) => runOf(`${slug}.success`).calls.find((c) => c.name === 'hostFetchConvert')!;
    expect(convert('migrate-across-zones').input).toMatchObject({ verify: true, expectSha256: results.push.sha256 });
    expect(convert('migrate-kvm-to-xen-via-cache').input).toMatchObject({
      verify: true,
      expectSha256: results.copyToPath.sha256,
    });
    expect(convert('migrate-within-cluster').input).toMatchObject({ verify: true });
    expect(convert('migrate-within-cluster').input).not.toHaveProperty('expectSha256');
  });

  it('migrateVolume removes the transit copy and then the old disk only after the commit', () => {
    const names = runOf('migrate-across-zones.success').calls.map((c) => c.name);
    expect(names).toEqual([
      'hostPush',
      'hostFetchConvert',
      'applyTransitions',
      'removeStoreObject',
      'removePoolFileOf',
    ]);
  });

  it('an undo that fails does not stop the others, nor the failure rows', () => {
    const run = runOf('undo-fails');
    expect(run.status).toBe('FAILED');
    const after = run.calls.slice(callOf(viaCache, 'releaseCacheLease') + 1);
    expect(after.map((c) => [c.name, c.end])).toEqual([
      ['removePoolFile', 'threw'],
      ['releaseCacheLeaseOf', 'ok'],
      ['applyTransitions', 'ok'],
    ]);
    expect(after[2]!.input).toMatchObject({ transitions: viaCache.onFailure, errorText: 'boom' });
  });

  it('a reservation that lands after the cancel: the job still ends cancelled, with its failure rows', () => {
    const run = runOf('reservation-lands-after-cancel');
    expect(run.status).toBe('CANCELLED');
    expect(run.calls.find((c) => c.name === 'reserveCacheSpace')?.end).toBe('ok');
    expect(run.calls.at(-1)).toMatchObject({ name: 'applyTransitions', input: { errorText: 'the job was cancelled' } });
  });

  // Found by this test: a reservation goes through the catalogue proxy (TRY_CANCEL) and the engine does not wait for
  // it on a cancel, so one that commits anyway must still be released: its undo is registered first, by holder and key.
  it('a reservation that lands after a cancel is released like any other', () => {
    expectLeasesReleasedOnce(runOf('reservation-lands-after-cancel').calls);
  });
});

describe('snapshot plans, beyond the matrix', () => {
  const calls = successCalls(snapshot, '');
  const commit = calls.findIndex((c) => c.phase === 'commit');
  const removeFromPrimary = `snapshot-kvm-to-s3.fail${callOf(snapshot, 'removeSnapshotOnPrimary')}`;

  it('takeSnapshot records what each step learned: size on primary, exported size, then the backup at the commit', () => {
    const run = runOf('snapshot-kvm-to-s3.success');
    const writes = run.calls.filter((c) => c.name === 'applyTransitions');
    expect(writes.map((w) => w.input.facts)).toEqual([
      {},
      { size: results.snapshot.size },
      { size: results.snapshot.size, physicalSize: results.exported.physicalSize },
      { size: results.push.size, sha256: results.push.sha256, physicalSize: results.push.size },
      // After the commit only the primary copy's removal is recorded; it needs no facts.
      undefined,
    ]);
    expect(run.calls.find((c) => c.name === 'hostPush')!.input).toMatchObject({
      path: '/pools/kvm-a/.snapshot-snap-1.qcow2',
      progressRow: { kind: 'snapshotStoreRef', id: 'sref-1' },
    });
  });

  it('a failure after the backup is committed leaves it BackedUp: no undo, no failure rows, a leftover', () => {
    const run = runOf(`snapshot-kvm-to-s3.fail${callOf(snapshot, 'removeSnapshotExport')}`);
    expect(run.status).toBe('COMPLETED');
    expect(run.calls.slice(0, commit + 1).map((c) => c.end)).toEqual(calls.slice(0, commit + 1).map(() => 'ok'));
    expect(transitionsOf(snapshot, calls[commit]!.step)).toContainEqual(expect.objectContaining({ to: 'BackedUp' }));
    expect(run.calls.filter((c) => c.name === 'removeStoreObject')).toEqual([]);
    expect(run.calls.filter((c) => c.input.errorText !== undefined)).toEqual([]);
    // The primary copy's removal is not recorded after a clean-up that failed: the row errs on the side of "still there".
    expect(run.result).toMatchObject({
      leftovers: [
        'remove-snapshot-export .snapshot-snap-1.qcow2: boom',
        expect.stringMatching(/^transition: not recorded/),
      ],
    });
  });

  it('when removing the snapshot from primary fails after the commit, the job still completes, reporting it', () => {
    const run = runOf(removeFromPrimary);
    expect(run.status).toBe('COMPLETED');
    expect(run.result).toMatchObject({
      leftovers: ['remove-snapshot-on-primary: boom', expect.stringMatching(/^transition: not recorded/)],
    });
    // The plan's last step records that removal.
    const last = transitionsOf(snapshot, snapshot.steps.length - 1);
    expect(last).toMatchObject([{ to: 'BackedUp', set: { primaryHandle: null } }]);
  });

  // Found by this test: clean-up after the commit once ran every step whatever the ones before it did, writing the
  // primary copy's removal (primaryHandle: null) although it failed, so nothing would ever remove that copy.
  it('a failed removal is not recorded as done: the row keeps its handle when removal fails', () => {
    const writes = runOf(removeFromPrimary).calls.filter((c) => c.name === 'applyTransitions');
    expect(writes.map((c) => c.input.transitions)).not.toContainEqual(
      transitionsOf(snapshot, snapshot.steps.length - 1),
    );
  });
});
