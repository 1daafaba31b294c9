// The doctor's judgement over fakes: what is orphaned, what lies, what is left alone and why.
import { describe, expect, it } from 'vitest';
import { isLegal } from '../../core/state-machine';
import {
  finalNameOf,
  hostSnapshotOwningId,
  owningId,
  poolOwningId,
  reconcile,
  sameOwners,
  uploadWanted,
  type CatalogueRow,
  type PoolListing,
  type ReconcileInput,
} from '../../planning/reconcile';

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

const V = '33333333-3333-4333-8333-333333333333';
const S = '44444444-4444-4444-8444-444444444444';
const pool = (files: string[], snapshots: { file: string; name: string }[] = [], at = old): PoolListing => ({
  poolId: 'p1',
  listed: true,
  files: files.map((name) => ({ name, size: 1, modified: at })),
  snapshots: snapshots.map((s) => ({ ...s, created: at })),
});
const volumeRow = (state: CatalogueRow['state'], jobIds: string[] = ['job-v']): CatalogueRow => ({
  kind: 'volume',
  id: V,
  state,
  jobIds,
  objectId: V,
  keeps: true,
  pool: { poolId: 'p1', file: `${V}.qcow2` },
});
const snapshotRow = (state: CatalogueRow['state'], jobIds: string[] = ['job-s']): CatalogueRow => ({
  kind: 'snapshot',
  id: S,
  state,
  jobIds,
  objectId: S,
  keeps: state === 'BackedUp',
  hostSnapshot: { poolId: 'p1', file: `${V}.qcow2`, name: `ferry-${S}` },
});
const owned = new Set([T, V, S]);

describe('reconcile on primary pools', () => {
  it('names work files after the file they become, and pool files after the id they carry', () => {
    expect(finalNameOf(`.${V}.qcow2.ferry-tmp`)).toBe(`${V}.qcow2`);
    expect(finalNameOf(`.${V}.vhd.ferry-download`)).toBe(`${V}.vhd`);
    expect(finalNameOf(`.snapshot-${S}.qcow2.ferry-part`)).toBe(`.snapshot-${S}.qcow2`);
    expect(finalNameOf(`cache/volume/${V}/.${V}.qcow2.ferry-tmp`)).toBe(`cache/volume/${V}/${V}.qcow2`);
    expect(poolOwningId(`.snapshot-${S.toUpperCase()}.qcow2`)).toBe(S);
    expect(poolOwningId('lost+found.img')).toBeUndefined();
  });

  it('a snapshot whose job ended mid-backup: the row lies, its export file and its snapshot in the disk are orphans', () => {
    const f = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Ready', []), snapshotRow('BackingUp')],
        jobs: { 'job-s': 'ended' },
        pools: [pool([`${V}.qcow2`, `.snapshot-${S}.qcow2`], [{ file: `${V}.qcow2`, name: `ferry-${S}` }])],
      }),
    );
    expect(f.lying.map((l) => [l.transition.row.id, l.transition.to])).toEqual([[S, 'Error']]);
    expect(f.orphans).toEqual([
      { kind: 'poolFile', poolId: 'p1', file: `.snapshot-${S}.qcow2`, ownerId: S },
      { kind: 'hostSnapshot', poolId: 'p1', file: `${V}.qcow2`, name: `ferry-${S}`, ownerId: S },
    ]);
    expect(f.missing).toEqual([]);
  });

  it('leaves alone what a running job works on, a BackedUp snapshot kept on primary, and young leftovers', () => {
    const listing = pool([`${V}.qcow2`, `.snapshot-${S}.qcow2`], [{ file: `${V}.qcow2`, name: `ferry-${S}` }]);
    const running = reconcile(
      input({ ownedIds: owned, rows: [volumeRow('Ready', []), snapshotRow('BackingUp')], pools: [listing] }),
    );
    expect(running).toMatchObject({ orphans: [], lying: [], young: 0 });
    const kept = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Ready', []), snapshotRow('BackedUp')],
        pools: [
          pool(
            [`${V}.qcow2`],
            listing.snapshots.map((s) => s),
          ),
        ],
      }),
    );
    expect(kept.orphans).toEqual([]);
    // The disk's own migration still runs: a snapshot inside it waits for that job.
    const migrating = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Migrating'), snapshotRow('Error', [])],
        pools: [{ ...listing, files: listing.files.slice(0, 1) }],
      }),
    );
    expect(migrating.orphans).toEqual([]);
    const young = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Ready', []), snapshotRow('BackingUp')],
        jobs: { 'job-s': 'ended' },
        pools: [pool([`${V}.qcow2`, `.snapshot-${S}.qcow2`], [{ file: `${V}.qcow2`, name: `ferry-${S}` }], recent)],
      }),
    );
    expect(young).toMatchObject({ orphans: [], young: 2 });
  });

  it('a migration whose job ended: the volume is Ready where it was, the destination file and its temporary are orphans', () => {
    const dest: PoolListing = { ...pool([`${V}.vhd`, `.${V}.vhd.ferry-tmp`]), poolId: 'p2' };
    const f = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Migrating')],
        jobs: { 'job-v': 'ended' },
        pools: [pool([`${V}.qcow2`]), dest],
      }),
    );
    expect(f.lying.map((l) => [l.transition.to, l.transition.set])).toEqual([['Ready', { migratingTo: null }]]);
    expect(f.orphans).toEqual([
      { kind: 'poolFile', poolId: 'p2', file: `${V}.vhd`, ownerId: V },
      { kind: 'poolFile', poolId: 'p2', file: `.${V}.vhd.ferry-tmp`, ownerId: V },
    ]);
  });

  it('never judges a file of another catalogue, nor a pool that could not be listed, and reports a Ready disk that is gone', () => {
    const f = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Ready', [])],
        pools: [
          pool([`${OTHER}.qcow2`, 'notes.txt'], [{ file: `${OTHER}.qcow2`, name: `ferry-${OTHER}` }]),
          { poolId: 'p2', listed: false, files: [], snapshots: [] },
        ],
      }),
    );
    expect(f.orphans).toEqual([]);
    expect(f.foreign).toBe(3);
    expect(f.missing).toEqual([{ kind: 'volume', id: V, storeId: 'p1', key: `${V}.qcow2` }]);
  });

  it('decides a pool copy being removed by the pool listing, and leaves it undecided without one', () => {
    const removing: CatalogueRow = {
      kind: 'templatePoolRef',
      id: 'pref',
      state: 'Destroying',
      jobIds: ['job-t'],
      objectId: T,
      pool: { poolId: 'p1', file: `${T}.qcow2` },
    };
    const base = { ownedIds: owned, rows: [removing], jobs: { 'job-t': 'ended' as const } };
    expect(reconcile(input({ ...base, pools: [pool([`${T}.qcow2`])] })).lying[0]!.transition.to).toBe('Ready');
    expect(reconcile(input({ ...base, pools: [pool([])] })).lying[0]!.transition.to).toBe('Destroyed');
    expect(reconcile(input(base)).undecided).toHaveLength(1);
  });

  it("judges only names Ferry gives: an operator's backup, a libvirt overlay or snapshot are foreign", () => {
    const ours = [`${V}.qcow2`, `.snapshot-${S}.qcow2`, `.${V}.qcow2.ferry-tmp`, `.snapshot-${S}.vhd.ferry-part`];
    expect(ours.map(poolOwningId)).toEqual([V, S, V, S]);
    expect(hostSnapshotOwningId(`ferry-${S}`)).toBe(S);
    const f = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Ready', [])],
        pools: [
          pool(
            [`${V}.qcow2`, `${V}.qcow2.bak`, `${V}.qcow2.${S}`, `backup-${V}.qcow2`, `.${V}.qcow2.bak.ferry-tmp`],
            [
              { file: `${V}.qcow2`, name: `pre-upgrade-${S}` },
              { file: `${V}.qcow2`, name: S },
            ],
          ),
        ],
      }),
    );
    expect(f.orphans).toEqual([]);
    expect(f.foreign).toBe(6);
  });

  it('keeps a file a live row names on any pool: two pool rows can be one directory', () => {
    const p2 = { ...pool([`${V}.qcow2`], [{ file: `${V}.qcow2`, name: `ferry-${S}` }]), poolId: 'p2' };
    const f = reconcile(
      input({ ownedIds: owned, rows: [volumeRow('Ready', []), snapshotRow('BackedUp', [])], pools: [p2] }),
    );
    expect(f.orphans).toEqual([]);
  });

  it('a lying row carries who owned it at the survey, so a repair can refuse a row a newer job claimed since', () => {
    const f = reconcile(
      input({
        ownedIds: owned,
        rows: [volumeRow('Migrating', ['job-v', 'job-v1'])],
        jobs: { 'job-v': 'ended', 'job-v1': 'ended' },
      }),
    );
    expect(f.lying).toEqual([expect.objectContaining({ objectId: V, jobIds: ['job-v', 'job-v1'] })]);
    const surveyed = f.lying[0]!.jobIds;
    expect(sameOwners(surveyed, ['job-v1', 'job-v'])).toBe(true);
    // Migration J2 claimed the volume again after J1 ended: its async job is new, so the repair leaves the row.
    expect(sameOwners(surveyed, ['job-v', 'job-v1', 'job-v2'])).toBe(false);
    expect(sameOwners(surveyed, ['job-v2', 'job-v1'])).toBe(false);
  });

  it('re-checks an upload before its abort: kept while a row saved it or a job may write its key, not for a Ready copy', () => {
    expect(uploadWanted([{ kind: 'templateStoreRef', state: 'Ready', uploadId: 'u1' }], 'u1')).toBe(true);
    expect(uploadWanted([{ kind: 'templateStoreRef', state: 'Creating' }], 'u1')).toBe(true);
    // Completed with another upload: this one is a leftover.
    expect(uploadWanted([{ kind: 'templateStoreRef', state: 'Ready' }], 'u1')).toBe(false);
    expect(uploadWanted([], 'u1')).toBe(false);
  });
});
