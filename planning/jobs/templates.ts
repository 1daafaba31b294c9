// The plans of template jobs: register (URL → each store), copy (store → store), prepare (store → pool), delete.
// Each copy is its own plan: it succeeds or fails alone, and its row says which.
import { transition, type Plan, type Transition } from '../../core/plan';
import type { Route } from '../motion-request';

/** The URL streamed into one store: the copy is Creating while it moves, Ready with its size once committed. */
export async function registerTemplatePlan(
  route: Route,
  t: { templateId: string; url: string; refId: string },
): Promise<Plan> {
  const motion = await route({ templateId: t.templateId, from: { url: t.url }, to: { storeRefId: t.refId } });
  return {
    summary: `register template ${t.templateId} from ${t.url}`,
    strategy: motion.strategy,
    progressRow: { kind: 'templateStoreRef', id: t.refId },
    steps: [
      { step: 'transition', transitions: [transition('templateStoreRef', t.refId, ['Allocated'], 'Creating')] },
      ...motion.steps,
      {
        step: 'commit',
        transitions: [
          transition('templateStoreRef', t.refId, ['Creating'], 'Ready', { record: ['size'] }),
          transition('template', t.templateId, ['Active'], 'Active', { record: ['size', 'sha256', 'virtualSize'] }),
        ],
      },
    ],
    onFailure: [transition('templateStoreRef', t.refId, ['Allocated', 'Creating'], 'Failed')],
  };
}

export async function copyTemplatePlan(
  route: Route,
  t: { templateId: string; sourceRefId: string; refId: string },
): Promise<Plan> {
  const motion = await route({
    templateId: t.templateId,
    from: { storeRefId: t.sourceRefId },
    to: { storeRefId: t.refId },
  });
  return {
    summary: `copy template ${t.templateId} by ${motion.strategy}`,
    strategy: motion.strategy,
    progressRow: { kind: 'templateStoreRef', id: t.refId },
    steps: [
      { step: 'transition', transitions: [transition('templateStoreRef', t.refId, ['Allocated'], 'Copying')] },
      ...motion.steps,
      {
        step: 'commit',
        transitions: [transition('templateStoreRef', t.refId, ['Copying'], 'Ready', { record: ['size'] })],
      },
    ],
    onFailure: [transition('templateStoreRef', t.refId, ['Allocated', 'Copying'], 'Failed')],
  };
}

export async function prepareTemplatePlan(
  route: Route,
  t: { templateId: string; sourceRefId: string; poolRefId: string },
): Promise<Plan> {
  const motion = await route({
    templateId: t.templateId,
    from: { storeRefId: t.sourceRefId },
    to: { poolRefId: t.poolRefId },
  });
  return {
    summary: `prepare template ${t.templateId} on a pool by ${motion.strategy}`,
    strategy: motion.strategy,
    steps: [
      { step: 'transition', transitions: [transition('templatePoolRef', t.poolRefId, ['Allocated'], 'Creating')] },
      ...motion.steps,
      {
        step: 'commit',
        transitions: [transition('templatePoolRef', t.poolRefId, ['Creating'], 'Ready', { record: ['size'] })],
      },
    ],
    onFailure: [transition('templatePoolRef', t.poolRefId, ['Allocated', 'Creating'], 'Failed')],
  };
}

/** What deleteTemplate claims at the API for a copy, in one transaction with starting the job. */
export function deleteTemplateCopyClaim(copy: { kind: 'store' | 'pool'; refId: string }): Transition {
  return transition(
    copy.kind === 'store' ? 'templateStoreRef' : 'templatePoolRef',
    copy.refId,
    ['Ready', 'Failed'],
    'Destroying',
  );
}

/** Removing one claimed copy: if removal fails the copy is still there, Ready with the reason. */
export function deleteTemplateCopyPlan(
  copy:
    | { kind: 'store'; refId: string; storeId: string; key: string }
    | { kind: 'pool'; refId: string; hostId: string; path: string },
): Plan {
  const kind = copy.kind === 'store' ? 'templateStoreRef' : 'templatePoolRef';
  return {
    summary: `remove template copy ${copy.refId}`,
    steps: [
      copy.kind === 'store'
        ? { step: 'remove-store-object', storeId: copy.storeId, key: copy.key }
        : { step: 'remove-pool-file', hostId: copy.hostId, path: copy.path },
      { step: 'commit', transitions: [transition(kind, copy.refId, ['Destroying'], 'Destroyed')] },
    ],
    onFailure: [transition(kind, copy.refId, ['Destroying'], 'Ready')],
  };
}

/** A time-limited URL of a Ready copy: nothing is created, nothing to undo. */
export function extractPlan(copy: { storeId: string; key: string; seconds: number }): Plan {
  return { summary: `extract ${copy.key}`, steps: [{ step: 'extract-url', ...copy }], onFailure: [] };
}
