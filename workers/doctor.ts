// `./ferry doctor [--repair] [--grace SECONDS] [--json]`: runs the doctor (workflow reconcileCatalogue) on the
// running worker's task queue, so it judges that worker's catalogue with its clients, and prints the report.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { FerryCommand } from '../core/search-attributes';
import { loadConfig } from '../temporal.config';
import type { DoctorReport, ReconcileInput, reconcileCatalogue } from '../workflows/reconcile-catalogue';

const usage = 'usage: ./ferry doctor [--repair] [--grace SECONDS] [--json]';

function parseArgs(argv: readonly string[]): ReconcileInput & { json: boolean } {
  const parsed: ReconcileInput & { json: boolean } = { json: false, repair: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--repair') parsed.repair = true;
    else if (arg === '--json') parsed.json = true;
    else if (arg === '--grace' || arg.startsWith('--grace=')) {
      const value = arg === '--grace' ? argv[++i] : arg.slice('--grace='.length);
      if (value === undefined || !/^\d{1,9}$/.test(value)) {
        throw new Error(`--grace must be a whole number of seconds (0 or more), not ${JSON.stringify(value ?? '')}`);
      }
      parsed.graceSeconds = Number(value);
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  return parsed;
}

function print(report: DoctorReport): void {
  const orphans = Object.entries(report.orphans);
  console.log(orphans.length ? `orphans: ${orphans.map(([k, n]) => `${k} ${n}`).join(', ')}` : 'orphans: none');
  console.log(`lying rows: ${report.lying}`);
  for (const line of report.details.lying) console.log(`  ${line}`);
  const repaired = Object.entries(report.repaired);
  if (repaired.length) console.log(`repaired: ${repaired.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const s of report.skipped) console.log(`  left: ${s.what}: ${s.reason}`);
  if (report.missing) console.log(`Ready copies whose bytes are missing: ${report.missing}`);
  for (const line of report.details.missing) console.log(`  ${line}`);
  if (report.undecided) console.log(`rows the doctor cannot judge: ${report.undecided}`);
  for (const line of report.details.undecided) console.log(`  ${line}`);
  for (const u of report.unlisted) console.log(`store ${u.storeName} could not be listed: ${u.reason}`);
  console.log(`younger than the grace period (left alone): ${report.young}; not this catalogue's: ${report.foreign}`);
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`doctor: ${(err as Error).message} (errorcode 431)\n${usage}`);
  process.exit(2);
}
const config = loadConfig();
const connection = await Connection.connect({ address: config.temporal.address });
try {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  // Without a worker on the queue the run would wait for one: say so at once instead.
  const { pollers } = await connection.workflowService.describeTaskQueue({
    namespace: config.temporal.namespace,
    taskQueue: { name: config.temporal.taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW (the enum lives in @temporalio/proto, not a dependency of ours)
  });
  if (!pollers?.length) {
    console.error(`doctor: no Ferry worker polls task queue ${config.temporal.taskQueue}; start Ferry (./ferry up)`);
    process.exit(1);
  }
  const workflowId = `ferry-doctor-run-${randomUUID()}`;
  const report = await client.workflow.execute<typeof reconcileCatalogue>('reconcileCatalogue', {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [{ repair: args.repair, ...(args.graceSeconds !== undefined ? { graceSeconds: args.graceSeconds } : {}) }],
    // No worker on the queue (Ferry not running) ends the run instead of waiting for ever.
    workflowExecutionTimeout: '1 hour',
    typedSearchAttributes: [{ key: FerryCommand, value: 'reconcileCatalogue' }],
  });
  // The run (its input and report) stays in the Temporal UI under this id.
  if (args.json) console.log(JSON.stringify({ ...report, workflowId }));
  else {
    print(report);
    console.log(`the run: workflow ${workflowId}`);
  }
} finally {
  await connection.close();
}
