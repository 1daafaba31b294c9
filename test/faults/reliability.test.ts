// The fault harness (`./ferry faults`): every job type under every fault, at a random point chosen by a fixed seed,
// on the real lab. After each trial the job has ended (completed, or failed or cancelled with a reason), the doctor
// finds nothing orphaned and no lying row (after `doctor --repair` for a terminated job, which by design runs no
// compensation), and a completed job's bytes, read back from its store or pool, are right. It writes the reliability
// table (Markdown and JSON) to $FERRY_HOME/faults/. FERRY_FAULTS_SEED (default 1) and FERRY_FAULTS_SCALE (default 1:
// 20 kills, 10 cancels, 5 terminations and one of each outage per type) choose the run; FERRY_FAULTS_TYPES and
// FERRY_FAULTS_MODES (comma lists) narrow it. The record is rewritten after every trial; FERRY_FAULTS_RESUME=1 goes on
// from a record a stopped run of the same choice left, with the same random points for the trials still to run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryHome } from '../../lab/lab-layout';
import { ImageSource } from '../support/image-source';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, stack } from '../support/stack';
import { temporalClient } from '../support/temporal';
import { makeJobTypes, type JobType, type JobTypeName, type StartedJob } from './job-types';
import { doctor, ensureWorker, injectFault, orphanCount, type FaultKind } from './lab-faults';

const seed = Number(process.env.FERRY_FAULTS_SEED ?? 1);
const scale = Number(process.env.FERRY_FAULTS_SCALE ?? 1);
const TRIALS: Record<FaultKind, number> = {
  kill: 20,
  cancel: 10,
  terminate: 5,
  's3-outage': 1,
  'pg-restart': 1,
  'temporal-restart': 1,
  'sshd-kill': 1,
};
const only = (name: string) => process.env[name]?.split(',').filter(Boolean);
const modes = (only('FERRY_FAULTS_MODES') as FaultKind[] | undefined) ?? (Object.keys(TRIALS) as FaultKind[]);
const JOB_END_MS = 300_000;
// A narrowed run names what it ran, so runs of one seed over disjoint modes or types each keep their record.
const runName = [
  `seed-${seed}`,
  ...[only('FERRY_FAULTS_TYPES'), only('FERRY_FAULTS_MODES')].flatMap((l) => (l ? [l.join('+')] : [])),
].join('-');
const recordDir = join(ferryHome, 'faults');
const recordFile = join(recordDir, `results-${runName}.json`);

/**
 * A trial's own draw in [0, 1), from the seed and the trial's name alone: a run's fault points can be replayed, and do
 * not depend on how many trials ran before (late faults add trials) or on which a resumed run skips.
 */
function trialDraw(type: string, fault: string, trial: number): number {
  let h = 0x811c9dc5 ^ seed; // FNV-1a over the trial's name, then one step of mulberry32
  for (const c of trialKey(type, fault, trial)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return random(h)();
}

/** mulberry32: a small seeded generator. */
function random(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface TrialResult {
  type: JobTypeName;
  fault: FaultKind;
  trial: number;
  faultAtMs: number;
  /** The job ended before the fault landed (the fault then tests nothing: reported, not hidden). */
  faultAfterEnd: boolean;
  ended: boolean;
  outcome: 'completed' | 'failed' | 'cancelled' | 'terminated' | 'running';
  reason?: string;
  orphans: Record<string, number>;
  lying: number;
  /** Ready copies whose bytes are gone: data lost. */
  missing: number;
  /** Rows the doctor could not judge (reported, not counted as lying). */
  undecided: number;
  repaired?: Record<string, number>;
  contentOk: boolean;
  problem?: string;
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the job until it ends, riding out an API or database that is restarting. */
async function jobEnd(jobid: string): Promise<Record<string, unknown> | undefined> {
  const end = Date.now() + JOB_END_MS;
  while (Date.now() < end) {
    try {
      const job = await adminApi().call('queryAsyncJobResult', { jobid });
      if (job.jobstatus !== 0) return job;
    } catch {
      // the API's database or Temporal is restarting
    }
    await sleep(500);
  }
  return undefined;
}

async function workflowStatus(jobid: string): Promise<string> {
  return (await (await temporalClient()).workflow.getHandle(jobid).describe()).status.name;
}

let lab: LabInventory;
let sql: postgres.Sql;
let types: JobType[];
const source = new ImageSource();
const results: TrialResult[] = [];
/** The trials a stopped run already recorded (FERRY_FAULTS_RESUME=1), by type, fault and trial number. */
const recorded = new Map<string, TrialResult>();
const trialKey = (type: string, fault: string, trial: number) => `${type} ${fault} #${trial}`;
if (process.env.FERRY_FAULTS_RESUME === '1' && existsSync(recordFile)) {
  for (const r of JSON.parse(readFileSync(recordFile, 'utf8')) as TrialResult[]) {
    recorded.set(trialKey(r.type, r.fault, r.trial), r);
  }
}

beforeAll(async () => {
  // A kill must hit the worker running the job: with one worker it always does (lab-faults.ts kills that one).
  if (stack().workerProcessPidFiles.length !== 1) {
    throw new Error("the fault harness kills the run's one worker: run it with FERRY_TEST_WORKERS=1 (the default)");
  }
  await source.start();
  lab = await buildLabInventory(adminApi());
  sql = postgres(stack().databaseUrl, { max: 2, onnotice: () => undefined });
  const all = await makeJobTypes({ api: adminApi(), lab, sql, source });
  const wanted = only('FERRY_FAULTS_TYPES');
  types = all.filter((t) => !wanted || wanted.includes(t.name));
}, 900_000);

afterAll(async () => {
  writeTable();
  if (results.length > 0) console.log(readFileSync(join(recordDir, `table-${runName}.md`), 'utf8'));
  await sql?.end();
  await removeLabInventoryStorage(adminApi(), lab);
  await source.close();
});

async function runTrial(type: JobType, fault: FaultKind, trial: number, baselineMs: number): Promise<TrialResult> {
  const draw = trialDraw(type.name, fault, trial);
  const earlier = recorded.get(trialKey(type.name, fault, trial));
  if (earlier) {
    results.push(earlier);
    return earlier;
  }
  const began = Date.now();
  const job: StartedJob = await type.start(trial);
  // A random point within the job's expected run (10%–90% of a clean run of the same type).
  const faultAtMs = Math.round(baselineMs * (0.1 + 0.8 * draw));
  await sleep(faultAtMs);
  let faultAfterEnd = false;
  try {
    faultAfterEnd = (await workflowStatus(job.jobid)) !== 'RUNNING';
  } catch {
    // Temporal unreachable: the fault still lands
  }
  await injectFault(fault, job);
  const done = await jobEnd(job.jobid);
  const status = await workflowStatus(job.jobid).catch(() => 'UNKNOWN');
  const outcome: TrialResult['outcome'] =
    status === 'TERMINATED'
      ? 'terminated'
      : !done
        ? 'running'
        : done.jobstatus === 1
          ? 'completed'
          : status === 'CANCELED' || status === 'CANCELLED'
            ? 'cancelled'
            : 'failed';
  let repaired: Record<string, number> | undefined;
  // A terminated workflow runs no compensation: the doctor's repair is what ends it truthfully. Its activity runs on
  // until its next heartbeat is refused and may finish a write meanwhile (a copyTemplate trial completed its Swift
  // object after the repair had ended its row): the repair waits out the heartbeat deadline first, as the doctor's
  // grace period does outside the harness.
  if (outcome === 'terminated') {
    await sleep((Number(stack().workerEnv.FERRY_TRANSFER_HEARTBEAT_S ?? 30) + 2) * 1000);
    repaired = (await doctor(true)).repaired;
  }
  const report = await doctor(false);
  let problem: string | undefined;
  if (outcome === 'completed') problem = await type.verify(job);
  problem ??= await type.verifyAfterAnyEnd?.(job);
  const reason = done && done.jobstatus === 2 ? JSON.stringify(done.jobresult) : undefined;
  const result: TrialResult = {
    type: type.name,
    fault,
    trial,
    faultAtMs,
    faultAfterEnd,
    ended: outcome !== 'running',
    outcome,
    reason,
    orphans: report.orphans,
    lying: report.lying,
    missing: report.missing,
    undecided: report.undecided,
    repaired,
    contentOk: problem === undefined,
    problem,
    ms: Date.now() - began,
  };
  results.push(result);
  writeTable();
  console.log(
    `[faults] ${type.name} ${fault} #${trial}: ${outcome} at ${faultAtMs} ms${faultAfterEnd ? ' (after the end)' : ''}` +
      `, orphans ${orphanCount(report)}, lying ${report.lying}, lost ${report.missing}${problem ? `, ${problem}` : ''} (${result.ms} ms)`,
  );
  if (outcome !== 'running') await type.cleanup(job);
  await ensureWorker();
  return result;
}

describe('faults at random points: every job ends, nothing orphaned, no lying row, the bytes right', () => {
  it('runs the trials', async () => {
    for (const type of types) {
      // A clean run of the type first: how long a job takes, and proof that it works without faults.
      const t0 = Date.now();
      const clean = await type.start(0);
      const done = await jobEnd(clean.jobid);
      const baselineMs = Date.now() - t0;
      expect(done?.jobstatus, `${type.name} without faults: ${JSON.stringify(done?.jobresult)}`).toBe(1);
      expect(await type.verify(clean)).toBeUndefined();
      await type.cleanup(clean);
      for (const fault of modes) {
        if (fault === 'sshd-kill' && !type.sshdHost) continue; // the job uses no host
        // A fault that landed after the job ended tested nothing: it is counted as late and another trial is run,
        // up to twice the count, so the count of faults that landed mid-job is reached where the timing allows.
        const count = Math.max(1, Math.round(TRIALS[fault] * scale));
        for (let trial = 1, midJob = 0; midJob < count && trial <= 2 * count; trial++) {
          if (!(await runTrial(type, fault, trial, baselineMs)).faultAfterEnd) midJob++;
        }
      }
    }
    const bad = results.filter((r) => !r.ended || orphanSum(r) > 0 || r.lying > 0 || r.missing > 0 || !r.contentOk);
    expect(bad.map((r) => `${r.type} ${r.fault} #${r.trial}: ${r.outcome} ${r.problem ?? ''}`)).toEqual([]);
  });
});

const orphanSum = (r: TrialResult) => Object.values(r.orphans).reduce((a, b) => a + b, 0);

function writeTable() {
  if (results.length === 0) return;
  mkdirSync(recordDir, { recursive: true });
  const rows = new Map<string, TrialResult[]>();
  for (const r of results) rows.set(`${r.type} | ${r.fault}`, [...(rows.get(`${r.type} | ${r.fault}`) ?? []), r]);
  const lines = [
    `Fault harness, seed ${seed}, scale ${scale}, ${new Date().toISOString()}: ${results.length} trials`,
    '',
    '| job type | fault | trials | late | ended | completed | compensated | repaired (terminated) | orphans | lying rows | lost | bytes wrong |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [key, rs] of rows) {
    const n = (f: (r: TrialResult) => boolean) => rs.filter(f).length;
    lines.push(
      `| ${key} | ${rs.length} | ${n((r) => r.faultAfterEnd)} | ${n((r) => r.ended)} | ${n((r) => r.outcome === 'completed')} | ` +
        `${n((r) => r.outcome === 'failed' || r.outcome === 'cancelled')} | ${n((r) => r.outcome === 'terminated')} | ` +
        `${rs.reduce((a, r) => a + orphanSum(r), 0)} | ${rs.reduce((a, r) => a + r.lying, 0)} | ${rs.reduce((a, r) => a + r.missing, 0)} | ${n((r) => !r.contentOk)} |`,
    );
  }
  writeFileSync(join(recordDir, `table-${runName}.md`), lines.join('\n') + '\n');
  writeFileSync(recordFile, JSON.stringify(results, null, 2));
}
