// Reading runs back from the real Temporal server: histories, search attributes, memos; recording replay fixtures.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Plan } from '../../core/plan';
import { stack } from './stack';

let client: Client | undefined;

export async function temporalClient(): Promise<Client> {
  client ??= new Client({ connection: await Connection.connect({ address: stack().temporalAddress }) });
  return client;
}

export const historiesDir = join(import.meta.dirname, '../replay/histories');

/** With FERRY_RECORD_HISTORIES=1, saves the run's history as a replay fixture (test/replay/histories/<name>.json). */
export async function recordHistory(workflowId: string, name: string): Promise<void> {
  if (process.env.FERRY_RECORD_HISTORIES !== '1') return;
  const history = await (await temporalClient()).workflow.getHandle(workflowId).fetchHistory();
  await writeFile(join(historiesDir, `${name}.json`), historyToJSON(history));
}

/** The plans a job runs: its workflow's input, as the API made it (first event of its history). */
export async function jobPlans(workflowId: string): Promise<Plan[]> {
  const history = await (await temporalClient()).workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) throw new Error(`job ${workflowId} has no input`);
  const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { plan?: Plan; plans?: Plan[] };
  return input.plans ?? (input.plan ? [input.plan] : []);
}
