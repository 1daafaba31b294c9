// reconcileCatalogue: the doctor. Surveys the catalogue against every store and Temporal's jobs, and with `repair`
// removes what is provably orphaned and ends lying rows truthfully. Run by `./ferry doctor` and by a Temporal
// Schedule (workers/ferry-worker.ts); its result is the report, so the last run's findings show in the Temporal UI.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Repair, Survey } from '../activities/reconcile';
import type { OrphanKind } from '../planning/reconcile';

/** Listing every store can take a while; a survey that fails is retried a little, then the run says why. */
const doctor = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * A repair acts on what the survey saw: retried minutes later, those findings may be stale (a row a new job has
 * claimed since), so a failed repair is reported, never retried; the next run surveys afresh.
 */
const repairer = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 1 },
});

export interface ReconcileInput {
  repair?: boolean;
  /** Orphans younger than this are left alone (seconds; default one hour). */
  graceSeconds?: number;
}

/** What `./ferry doctor --json` prints: orphans by kind, lying rows, what was repaired, and the rest it saw. */
export interface DoctorReport {
  orphans: Partial<Record<OrphanKind, number>>;
  lying: number;
  repaired: Repair['repaired'];
  /** Ready copies whose bytes their store does not list (never repaired: a person must look). */
  missing: number;
  /** Transitional rows whose truth the doctor cannot tell (no job known, a pool copy being removed). */
  undecided: number;
  /** Orphans younger than the grace period, left alone. */
  young: number;
  /** Listed keys no id of this catalogue owns (another catalogue sharing the store): never touched. */
  foreign: number;
  unlisted: Survey['unlisted'];
  skipped: Repair['skipped'];
  details: { lying: string[]; missing: string[]; undecided: string[] };
}

export const DEFAULT_GRACE_SECONDS = 3600;

export async function reconcileCatalogue(input: ReconcileInput = {}): Promise<DoctorReport> {
  const survey = await doctor.surveyCatalogue({ graceSeconds: input.graceSeconds ?? DEFAULT_GRACE_SECONDS });
  const repair = input.repair ? await repairer.repairFindings(survey.findings) : undefined;
  return reportOf(survey, repair);
}

function reportOf({ findings, unlisted }: Survey, repair: Repair | undefined): DoctorReport {
  const orphans: DoctorReport['orphans'] = {};
  for (const o of findings.orphans) orphans[o.kind] = (orphans[o.kind] ?? 0) + 1;
  return {
    orphans,
    lying: findings.lying.length,
    repaired: repair?.repaired ?? {},
    missing: findings.missing.length,
    undecided: findings.undecided.length,
    young: findings.young,
    foreign: findings.foreign,
    unlisted,
    skipped: repair?.skipped ?? [],
    details: {
      lying: findings.lying.map((l) => `${l.transition.row.kind} ${l.transition.row.id}: ${l.why}`),
      missing: findings.missing.map((m) => `${m.kind} ${m.id}: ${m.key} is not on store ${m.storeId}`),
      undecided: findings.undecided.map((u) => `${u.kind} ${u.id} (${u.state}): ${u.why}`),
    },
  };
}
