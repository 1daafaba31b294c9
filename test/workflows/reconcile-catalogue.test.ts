// reconcileCatalogue on the time-skipping test server with mocked activities: it surveys with the grace period it was
// given (an hour by default), repairs only when asked and only what the survey found, and reports both.
import { describe, expect, it, vi } from 'vitest';
import type { Repair, Survey } from '../../activities/reconcile';
import type { Findings } from '../../planning/reconcile';
import { reconcileCatalogue } from '../../workflows/reconcile-catalogue';
import { useWorkflowEnv } from '../support/workflow-env';

const env = useWorkflowEnv();

const findings: Findings = {
  orphans: [
    { kind: 'multipartUpload', storeId: 's3', key: 'template/tmpl/a/t/t.raw', uploadId: 'u1' },
    { kind: 'storeObject', storeId: 's3', key: 'template/tmpl/a/t2/t2.raw' },
    { kind: 'storeObject', storeId: 'nfs', key: 'volumes/a/v/v.raw' },
  ],
  lying: [
    {
      transition: { row: { kind: 'templateStoreRef', id: 'r1' }, from: ['Creating'], to: 'Failed' },
      why: 'the doctor found it Creating after its job j1 had ended',
      objectId: 't',
      jobIds: ['j1'],
    },
  ],
  undecided: [],
  missing: [],
  young: 2,
  foreign: 5,
};
const unlisted = [{ storeId: 'swift', storeName: 'swift-b', reason: 'unreachable' }];

const survey = () => vi.fn((_: { graceSeconds: number }): Promise<Survey> => Promise.resolve({ findings, unlisted }));

describe('reconcileCatalogue workflow', () => {
  it('only counts without repair, surveying with an hour of grace by default', async () => {
    const surveyCatalogue = survey();
    // repairFindings is not mocked: calling it would fail the run.
    const report = await env.run({ surveyCatalogue }, ({ client, taskQueue }) =>
      client.workflow.execute(reconcileCatalogue, { taskQueue, workflowId: 'doctor-count', args: [{}] }),
    );
    expect(surveyCatalogue.mock.calls).toStrictEqual([[{ graceSeconds: 3600 }]]);
    expect(report).toMatchObject({
      orphans: { multipartUpload: 1, storeObject: 2 },
      lying: 1,
      repaired: {},
      young: 2,
      foreign: 5,
      unlisted,
      skipped: [],
    });
    expect(report.details.lying).toEqual([
      'templateStoreRef r1: the doctor found it Creating after its job j1 had ended',
    ]);
  });

  it('repairs what the survey found, with the grace it was given, and reports what was done and left', async () => {
    const surveyCatalogue = survey();
    const repairFindings = vi.fn((_: Findings): Promise<Repair> =>
      Promise.resolve({
        repaired: { multipartUpload: 1, storeObject: 1, lying: 1 },
        skipped: [{ what: 'storeObject volumes/a/v/v.raw on store nfs', reason: 'a row accounts for it again' }],
      }),
    );
    const report = await env.run({ surveyCatalogue, repairFindings }, ({ client, taskQueue }) =>
      client.workflow.execute(reconcileCatalogue, {
        taskQueue,
        workflowId: 'doctor-repair',
        args: [{ repair: true, graceSeconds: 0 }],
      }),
    );
    expect(surveyCatalogue.mock.calls).toStrictEqual([[{ graceSeconds: 0 }]]);
    expect(repairFindings.mock.calls).toStrictEqual([[findings]]);
    expect(report).toMatchObject({
      orphans: { multipartUpload: 1, storeObject: 2 },
      lying: 1,
      repaired: { multipartUpload: 1, storeObject: 1, lying: 1 },
      skipped: [{ what: 'storeObject volumes/a/v/v.raw on store nfs', reason: 'a row accounts for it again' }],
    });
  });

  it('never retries a repair with the findings of a survey that may have gone stale', async () => {
    const repairFindings = vi.fn((_: Findings): Promise<Repair> => Promise.reject(new Error('database went away')));
    const run = env.run({ surveyCatalogue: survey(), repairFindings }, ({ client, taskQueue }) =>
      client.workflow.execute(reconcileCatalogue, { taskQueue, workflowId: 'doctor-once', args: [{ repair: true }] }),
    );
    await expect(run).rejects.toThrow();
    expect(repairFindings).toHaveBeenCalledTimes(1);
  });
});
