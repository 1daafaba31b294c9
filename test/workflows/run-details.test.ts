// What the Temporal UI shows of a running plan (the run's current details): the step it is on, by plan, then how it
// ended; two plans side by side each keep their own line.
import { describe, expect, it } from 'vitest';
import type { TransferResult } from '../../activities/transfers';
import { registerTemplatePlan } from '../../planning/jobs/templates';
import { useWorkflowEnv } from '../support/workflow-env';
import { routeVia } from './plans';

const env = useWorkflowEnv();
const url = 'http://127.0.0.1:9/images/t1.qcow2';
const toS3 = await registerTemplatePlan(routeVia('url-to-store'), { templateId: 't1', url, refId: 'tref-s3' });
const toNfs = await registerTemplatePlan(routeVia('url-to-store'), { templateId: 't1', url, refId: 'tref-nfs' });

const sent: TransferResult = { size: 1, sha256: 'a'.repeat(64), format: 'QCOW2', resumedParts: 0, partsSent: 1 };

interface Metadata {
  currentDetails?: string;
}

describe("a plan's current details", () => {
  it('name the step each plan is on while it runs, and how each ended', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let downloads = 0;
    await env.run(
      {
        applyTransitions: () => Promise.resolve(),
        downloadToStore: async () => {
          downloads++;
          await held;
          return sent;
        },
      },
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start('registerTemplate', {
          taskQueue,
          workflowId: 'details-two-stores',
          args: [{ plans: [toS3, toNfs], heartbeatSeconds: 30 }],
        });
        const metadata = () => handle.query<Metadata>('__temporal_workflow_metadata');
        for (let i = 0; i < 200 && downloads < 2; i++) await new Promise((r) => setTimeout(r, 50));
        const running = (await metadata()).currentDetails ?? '';
        const lines = running.split('\n\n');
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatch(new RegExp(`^${escape(toS3.summary)}: step \\d+ of ${toS3.steps.length}, download `));
        expect(lines[1]).toMatch(
          new RegExp(`^${escape(toNfs.summary)}: step \\d+ of ${toNfs.steps.length}, download `),
        );
        release();
        await handle.result();
        expect((await metadata()).currentDetails).toBe(`${toS3.summary}: done\n\n${toNfs.summary}: done`);
      },
    );
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
