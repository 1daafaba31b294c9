// The doctor's judgement over fakes: what is orphaned, what lies, what is left alone and why.
import { describe, expect, it } from 'vitest';
import { isLegal } from '../../core/state-machine';
import { owningId, reconcile, type CatalogueRow, type ReconcileInput } from '../../planning/reconcile';

const now = new Date('2026-11-27T12:00:00Z');
const old = new Date(now.getTime() - 2 * 3600_000);
const recent = new Date(now.getTime() - 60_000);
const T = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const OTHER = '99999999-9999-4999-8999-999999999999';
const key = (id: string) => `template/tmpl/admin/${id}/${id}.qcow2`;

function input(over: Partial<ReconcileInput>): ReconcileInput {
  return {
    rows: [],
    stores: [{ storeId: 's3', role: 'Image', listed: true, objects: [], uploads: [] }],
    cacheObjects: [],
    leases: [],
    ownedIds: new Set([T, T2]),
    jobs: {},
    now,
    graceSeconds: 3600,
    ...over,
  };
}

const creating = (jobId: string, uploadId?: string): CatalogueRow => ({
  kind: 'templateStoreRef',
  id: 'ref-1',
  state: 'Creating',
  jobIds: [jobId],
  store: { storeId: 's3', key: key(T), ...(uploadId ? { uploadId } : {}) },
});

describe('reconcile', () => {
  it('finds a terminated download: its row lies (Creating → Failed) and its open upload is an orphan', () => {
    const f = reconcile(
      input({
        rows: [creating('job-1', 'up-1')],
        jobs: { 'job-1': 'ended' },
        stores: [
          {
            storeId: 's3',
            role: 'Image',
            listed: true,
            objects: [],
            uploads: [{ key: key(T), uploadId: 'up-1', initiated: old }],
          },
        ],
      }),
    );
    expect(f.lying.map((l) => [l.transition.row.id, l.transition.from, l.transition.to])).toEqual([
      ['ref-1', ['Creating'], 'Failed'],
    ]);
    expect(f.orphans).toEqual([{ kind: 'multipartUpload', storeId: 's3', key: key(T), uploadId: 'up-1' }]);
  });

  it('leaves a running job alone: its row, its saved upload and an upload it just began at its key', () => {
    const f = reconcile(
      input({
        rows: [creating('job-1', 'up-1')],
        jobs: { 'job-1': 'running' },
        stores: [
          {
            storeId: 's3',
            role: 'Image',
            listed: true,
            objects: [],
            uploads: [
              { key: key(T), uploadId: 'up-1', initiated: old },
              { key: key(T), uploadId: 'up-2', initiated: old },
            ],
          },
        ],
      }),
    );
    expect(f).toMatchObject({ lying: [], orphans: [], undecided: [] });
  });

  it('judges a row by every job that may own it: one still running keeps it (a revived copy)', () => {
    const row = { ...creating('old-job'), jobIds: ['old-job', 'new-job'] };
    const f = reconcile(input({ rows: [row], jobs: { 'old-job': 'ended', 'new-job': 'running' } }));
    expect(f.lying).toEqual([]);
  });

  it('removes an object no Ready row points at once older than the grace period, and never a Ready copy', () => {
    const ready: CatalogueRow = { ...creating('job-1'), id: 'ref-ready', state: 'Ready', jobIds: [] };
    const f = reconcile(
      input({
        rows: [ready],
        stores: [
          {
            storeId: 's3',
            role: 'Image',
            listed: true,
            objects: [
              { key: key(T), size: 10, modified: old },
              { key: key(T2), size: 10, modified: old },
              { key: `template/tmpl/admin/${T2}/young.qcow2`, size: 10, modified: recent },
            ],
            uploads: [],
          },
        ],
      }),
    );
    expect(f.orphans).toEqual([{ kind: 'storeObject', storeId: 's3', key: key(T2) }]);
    expect(f.young).toBe(1);
  });

  it("never judges another catalogue's keys (a shared bucket), nor keys of no known layout", () => {
    const f = reconcile(
      input({
        stores: [
          {
            storeId: 's3',
            role: 'Image',
            listed: true,
            objects: [
              { key: key(OTHER), size: 1, modified: old },
              { key: 'somebody/else.txt', size: 1, modified: old },
            ],
            uploads: [{ key: key(OTHER), uploadId: 'theirs', initiated: old }],
          },
        ],
      }),
    );
    expect(f.orphans).toEqual([]);
    expect(f.foreign).toBe(3);
  });

  it('makes a completed object of a lying row an orphan, but keeps bytes whose removal never happened', () => {
    const removing: CatalogueRow = { ...creating('job-2'), id: 'ref-2', state: 'Destroying', jobIds: ['job-2'] };
    const object = { key: key(T), size: 5, modified: old };
    const listing = (objects: (typeof object)[]) => [
      { storeId: 's3', role: 'Image' as const, listed: true, objects, uploads: [] },
    ];
    // A terminated download that completed its upload: the row goes Failed, the object is nobody's.
    const done = reconcile(input({ rows: [creating('job-1')], jobs: { 'job-1': 'ended' }, stores: listing([object]) }));
    expect(done.orphans).toEqual([{ kind: 'storeObject', storeId: 's3', key: key(T) }]);
    // A terminated removal: the store tells whether the copy is still there.
    const kept = reconcile(input({ rows: [removing], jobs: { 'job-2': 'ended' }, stores: listing([object]) }));
    expect(kept.lying[0]!.transition.to).toBe('Ready');
    expect(kept.orphans).toEqual([]);
    const gone = reconcile(input({ rows: [removing], jobs: { 'job-2': 'ended' }, stores: listing([]) }));
    expect(gone.lying[0]!.transition.to).toBe('Destroyed');
  });

  it('judges nothing on a store that could not be listed', () => {
    const removing: CatalogueRow = { ...creating('job-2'), state: 'Destroying' };
    const f = reconcile(
      input({
        rows: [removing],
        jobs: { 'job-2': 'ended' },
        stores: [{ storeId: 's3', role: 'Image', listed: false, objects: [], uploads: [] }],
      }),
    );
    expect(f.lying).toEqual([]);
    expect(f.undecided).toHaveLength(1);
  });

  it('ends lying rows of every kind only through legal transitions', () => {
    const rows: CatalogueRow[] = [
      { kind: 'volume', id: 'v1', state: 'Migrating', jobIds: ['j'] },
      { kind: 'volume', id: 'v2', state: 'UploadOp', jobIds: ['j'] },
      { kind: 'volume', id: 'v3', state: 'Creating', jobIds: ['j'] },
      { kind: 'volume', id: 'v4', state: 'Destroy', jobIds: ['j'] },
      { kind: 'snapshot', id: 's1', state: 'BackingUp', jobIds: ['j'] },
      { kind: 'snapshot', id: 's2', state: 'CreatedOnPrimary', jobIds: ['j'] },
      { kind: 'templatePoolRef', id: 'p1', state: 'Creating', jobIds: ['j'] },
      { kind: 'host', id: 'h1', state: 'Connecting', jobIds: ['j'] },
      { ...creating('j'), id: 'c1', state: 'Allocated' },
      { ...creating('j'), id: 'c2', kind: 'snapshotStoreRef', state: 'Copying' },
    ];
    const f = reconcile(input({ rows, jobs: { j: 'ended' } }));
    expect(f.lying).toHaveLength(rows.length);
    for (const { transition: t } of f.lying) expect(isLegal(t.row.kind, t.from[0]!, t.to)).toBe(true);
    const to = Object.fromEntries(f.lying.map((l) => [l.transition.row.id, l.transition.to]));
    expect(to).toMatchObject({ v1: 'Ready', v2: 'UploadError', s1: 'Error', p1: 'Failed', h1: 'Error', c1: 'Failed' });
    expect(f.lying.find((l) => l.transition.row.id === 'v1')!.transition.set).toEqual({ migratingTo: null });
  });

  it('cannot tell a row no job is known for, nor a removal from a pool', () => {
    const f = reconcile(
      input({
        rows: [
          { kind: 'volume', id: 'v1', state: 'Creating', jobIds: [] },
          { kind: 'templatePoolRef', id: 'p1', state: 'Destroying', jobIds: ['j'] },
        ],
        jobs: { j: 'ended' },
      }),
    );
    expect(f.lying).toEqual([]);
    expect(f.undecided.map((u) => u.id)).toEqual(['v1', 'p1']);
  });

  it("releases leases of finished holders (old enough) and keeps a running holder's staged bytes", () => {
    const cacheKey = `cache/template/${T}/${T}.vhd`;
    const f = reconcile(
      input({
        stores: [
          {
            storeId: 'cache',
            role: 'ImageCache',
            listed: true,
            objects: [
              { key: cacheKey, size: 1, modified: old },
              { key: `cache/template/${T2}/${T2}.vhd`, size: 1, modified: old },
            ],
            uploads: [],
          },
        ],
        leases: [
          { id: 'l1', storeId: 'cache', key: cacheKey, holder: 'running-job', created: old },
          { id: 'l2', storeId: 'cache', key: 'cache/x', holder: 'dead-job', created: old },
          { id: 'l3', storeId: 'cache', key: 'cache/y', holder: 'dead-too', created: recent },
        ],
        jobs: { 'running-job': 'running', 'dead-job': 'ended', 'dead-too': 'ended' },
      }),
    );
    expect(f.orphans).toEqual([
      { kind: 'lease', storeId: 'cache', leaseId: 'l2', holder: 'dead-job' },
      { kind: 'cacheObject', storeId: 'cache', key: `cache/template/${T2}/${T2}.vhd` },
    ]);
    expect(f.young).toBe(1);
  });

  it('reports a Ready copy whose bytes its store does not list, and repairs nothing for it', () => {
    const ready: CatalogueRow = { ...creating('j'), state: 'Ready', jobIds: [] };
    const f = reconcile(input({ rows: [ready] }));
    expect(f.missing).toEqual([{ kind: 'templateStoreRef', id: 'ref-1', storeId: 's3', key: key(T) }]);
    expect(f.lying).toEqual([]);
  });

  it('reads the owning id from every layout', () => {
    expect(owningId(`template/tmpl/acct/${T}/f.qcow2`)).toBe(T);
    expect(owningId(`volumes/acct/${T}/f.raw`)).toBe(T);
    expect(owningId(`snapshots/acct/${T}/s.qcow2`)).toBe(T);
    expect(owningId(`cache/snapshot/${T}/s.vhd`)).toBe(T);
    expect(owningId('lost+found/x')).toBeUndefined();
  });
});
