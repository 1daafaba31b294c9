// Replays the committed histories (recorded from the real lab) against today's workflow code.
// A change that would break a run in flight fails here: use patched() or a new workflow type.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import * as workflows from '../../workflows';
import { workflowsPath } from '../../workers/ferry-worker';
import { historiesDir } from '../support/temporal';

const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));
const load = (file: string) => historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as unknown);

describe('workflow replay', () => {
  let bundle: WorkflowBundle;
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    bundle = await bundleWorkflowCode({ workflowsPath, logger: quiet });
  });

  it('has a success history and a failure/compensation history for every workflow type', () => {
    for (const type of Object.keys(workflows)) {
      const mine = files.filter((f) => f.startsWith(`${type}-`));
      expect(mine, type).toContain(`${type}-success.json`);
      expect(mine.length, `${type} needs a compensation-path history too`).toBeGreaterThanOrEqual(2);
    }
  });

  it.each(files)('replays %s', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: bundle }, load(file), file);
  });

  it('rejects a reordered workflow replaying an old history', async () => {
    const reordered = await bundleWorkflowCode({
      workflowsPath: join(import.meta.dirname, 'fixtures/reordered-add-host.ts'),
      logger: quiet,
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle: reordered }, load('addHost-success.json'), 'reordered'),
    ).rejects.toMatchObject({ name: 'DeterminismViolationError' });
  });
});

const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
