// Snapshot commands: take one (on primary through the volume's host, then backed up to an image store), list, delete.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { snapshots, snapshotStoreRefs } from '../../db/schema';
import { snapshotKey } from '../../plugins/image-stores/layout';
import { defineCommand } from '../command';
import { ApiError, ErrorCode } from '../errors';
import { startJob } from '../jobs';
import { routeIn } from '../../planning/motion-request';
import { planned, startClaimedJob } from '../planned';
import { readSetting } from '../../db/settings';
import { deleteSnapshotClaims, deleteSnapshotPlan, takeSnapshotPlan } from '../../planning/jobs/snapshots';
import { listResponse } from '../list';
import { listParams, optional, required } from '../params';
import { snapshotEntries, snapshotView } from '../views/volume';
import { poolWithHost, SNAPSHOT_IN_PROGRESS, snapshotById, storesForZone, volumeById } from './volume-lookup';
import { EXTENSION } from './template-lookup';
import { requireStoreSpace } from './capacity-checks';

export const createSnapshot = defineCommand({
  name: 'createSnapshot',
  description: 'Creates a snapshot of a volume on primary storage and backs it up to an image store',
  isAsync: true,
  params: {
    volumeid: required.uuid('the ID of the volume'),
    name: optional.string('the name of the snapshot'),
  },
  async handle(p, ctx) {
    const volume = await volumeById(ctx, p.volumeid);
    if (volume.state !== 'Ready' || !volume.poolId) {
      throw new ApiError(
        ErrorCode.ParamError,
        `Volume ${volume.name} is ${volume.state}; only a Ready volume on primary storage can be snapshotted.`,
      );
    }
    const { host, pool, cluster } = await poolWithHost(ctx, volume.poolId);
    const [running] = await ctx.db
      .select({ name: snapshots.name })
      .from(snapshots)
      .where(and(eq(snapshots.volumeId, volume.id), inArray(snapshots.state, SNAPSHOT_IN_PROGRESS)));
    if (running) {
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Volume ${volume.name} is already being snapshotted (${running.name}); wait for that job to end.`,
      );
    }
    // A region store first: its copy serves every zone (a volume can be made from it anywhere).
    const [store] = await storesForZone(ctx, volume.zoneId, true);
    if (!store) {
      throw new ApiError(
        ErrorCode.ResourceUnavailable,
        "No writable image store serves the volume's zone; add one (addImageStore) to back snapshots up to.",
      );
    }
    const id = randomUUID();
    const key = snapshotKey(ctx.user.account, volume.id, `${id}.${EXTENSION[volume.format] ?? 'img'}`);
    // The policy in force when the snapshot is asked for decides whether it stays on primary.
    const keepOnPrimary = (await readSetting(ctx.db, 'snapshot.keep.on.primary')) === 'true';
    // The backup is at most the volume's virtual size; it is reserved on the store until the backup says its bytes.
    const bytes = volume.size ?? 0;
    await requireStoreSpace(ctx, store, bytes, 'the snapshot');
    const snapshotName = p.name ?? `${volume.name}_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
    const jobid = await ctx.db.transaction(async (tx) => {
      await tx.insert(snapshots).values({
        id,
        name: snapshotName,
        volumeId: volume.id,
        zoneId: volume.zoneId,
        format: volume.format,
        ownerId: ctx.user.id,
      });
      const [ref] = await tx
        .insert(snapshotStoreRefs)
        .values({ snapshotId: id, storeId: store.id, installPath: key, size: bytes || undefined })
        .returning({ id: snapshotStoreRefs.id });
      const plan = await planned(() =>
        takeSnapshotPlan(routeIn(tx), {
          snapshotId: id,
          volume: { id: volume.id, poolId: volume.poolId!, path: volume.path! },
          pool: { path: pool.path, hypervisor: cluster.hypervisor },
          refId: ref!.id,
          storeId: store.id,
          key,
          keepOnPrimary,
        }),
      );
      return await startJob(
        { ...ctx, db: tx },
        {
          workflowType: 'takeSnapshot',
          summary: `createSnapshot ${snapshotName} of ${volume.name} on ${host.name} → ${store.name}`,
          args: [{ plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
          instanceType: 'Snapshot',
          instanceId: id,
          zoneId: volume.zoneId,
          request: { volumeid: volume.id, name: p.name, host: host.name, store: store.name },
        },
      );
    });
    return { jobid, id, snapshot: await snapshotView(ctx.db, id) };
  },
});

export const listSnapshots = defineCommand({
  name: 'listSnapshots',
  description: 'Lists snapshots with their state (CreatedOnPrimary, BackingUp, BackedUp, Error, ...)',
  isAsync: false,
  params: {
    id: optional.uuid('the ID of the snapshot'),
    volumeid: optional.uuid('the ID of the volume'),
    zoneid: optional.uuid('the ID of the zone'),
    name: optional.string('the name of the snapshot'),
    ...listParams,
  },
  async handle(p, ctx) {
    const filters = [
      p.id ? eq(snapshots.id, p.id) : undefined,
      p.volumeid ? eq(snapshots.volumeId, p.volumeid) : undefined,
      p.zoneid ? eq(snapshots.zoneId, p.zoneid) : undefined,
      p.name ? eq(snapshots.name, p.name) : undefined,
    ].filter((f) => f !== undefined);
    const entries = await snapshotEntries(ctx.db, filters.length ? and(...filters) : undefined);
    return listResponse(
      'snapshot',
      entries.filter((e) => e.state !== 'Destroyed'),
      p,
    );
  },
});

export const deleteSnapshot = defineCommand({
  name: 'deleteSnapshot',
  description: 'Deletes a snapshot: its backups on image stores and, if kept there, its copy on primary',
  isAsync: true,
  params: { id: required.uuid('the ID of the snapshot') },
  async handle(p, ctx) {
    const snapshot = await snapshotById(ctx, p.id);
    if (SNAPSHOT_IN_PROGRESS.includes(snapshot.state) || snapshot.state === 'Destroying') {
      throw new ApiError(ErrorCode.ResourceInUse, `Snapshot ${snapshot.name} is ${snapshot.state}; wait for its job.`);
    }
    const copies = await ctx.db
      .select()
      .from(snapshotStoreRefs)
      .where(and(eq(snapshotStoreRefs.snapshotId, snapshot.id), inArray(snapshotStoreRefs.state, ['Ready', 'Failed'])));
    const refs = copies.map((c) => ({ refId: c.id, storeId: c.storeId, key: c.installPath }));
    const plan = deleteSnapshotPlan({
      snapshotId: snapshot.id,
      ...(snapshot.primaryHandle ? { primaryHandle: snapshot.primaryHandle } : {}),
      copies: refs,
    });
    const from = [snapshot.state as 'BackedUp' | 'Error'];
    const jobid = await startClaimedJob(
      ctx,
      deleteSnapshotClaims({ snapshotId: snapshot.id, from, copies: refs }),
      `Snapshot ${snapshot.name} is being worked on by another job; wait for it to end.`,
      {
        workflowType: 'deleteSnapshot',
        summary: `deleteSnapshot ${snapshot.name}`,
        args: [{ plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
        instanceType: 'Snapshot',
        instanceId: snapshot.id,
        zoneId: snapshot.zoneId,
        request: { id: snapshot.id },
      },
    );
    return { jobid };
  },
});
