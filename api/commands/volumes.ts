// Volume commands: create (blank, from a template, from a snapshot's backup), list, delete. The API checks, writes
// the volume row (Allocated) and starts the workflow; hosts do the disk work.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import {
  imageStores,
  snapshots,
  snapshotStoreRefs,
  templateStoreRefs,
  volumes,
  volumeStoreRefs,
} from '../../db/schema';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import { routeIn } from '../../planning/motion-request';
import { planned, startClaimedJob } from '../planned';
import { createVolumePlan, deleteVolumeClaims, deleteVolumePlan } from '../../planning/jobs/volumes';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { volumeEntries, volumeView } from '../views/volume';
import { templateVirtualBytes } from '../../planning/capacity';
import { requirePoolSpace } from './capacity-checks';
import { zoneById } from './lookup';
import { templateById } from './template-lookup';
import {
  choosePool,
  reachableFrom,
  SNAPSHOT_IN_PROGRESS,
  snapshotById,
  volumeById,
  volumeFileName,
} from './volume-lookup';

const GiB = 1024 ** 3;
/**
 * The largest blank volume asked for, in GB: 1 PiB. Its bytes (2^50) stay well inside a bigint column and a safe
 * JavaScript integer; whether a pool can hold it is the capacity check's question, not the parameter's.
 */
const MAX_VOLUME_GB = 1024 * 1024;

/** A Ready copy of the object on a store the zone reaches, or a clear refusal naming where the copies are. */
async function reachableCopy(
  ctx: CommandContext,
  what: string,
  zoneName: string,
  zoneId: string,
  copies: { storeId: string; key: string; state: string }[],
) {
  const ready = copies.filter((c) => c.state === 'Ready');
  if (ready.length === 0) throw paramError(`${what} has no Ready copy on an image store yet.`);
  const reachable = await ctx.db
    .select({ id: imageStores.id })
    .from(imageStores)
    .where(
      and(
        inArray(
          imageStores.id,
          ready.map((c) => c.storeId),
        ),
        reachableFrom(zoneId),
      ),
    );
  const copy = ready.find((c) => reachable.some((r) => r.id === c.storeId));
  if (!copy) {
    throw paramError(
      `${what} is backed up only on image stores that zone ${zoneName} cannot reach; ` +
        'copy it to a region store or a store of that zone first, or pick a zone that reaches it.',
    );
  }
  return copy;
}

export const createVolume = defineCommand({
  name: 'createVolume',
  description: 'Creates a volume on a primary pool: blank (size), from a template (templateid) or a snapshot',
  isAsync: true,
  params: {
    name: optional.string('the name of the volume'),
    zoneid: optional.uuid('the ID of the zone to create the volume in (required)'),
    size: optional.integer(
      `size of a blank volume, in GB (1 to ${MAX_VOLUME_GB}, 1 PiB)`,
      must.beBetween(1, MAX_VOLUME_GB),
    ),
    snapshotid: optional.uuid('the snapshot ID to create the volume from (zoneid required)'),
    templateid: optional.uuid('the template ID to create the volume from'),
    storageid: optional.uuid('the primary storage pool to put the volume on (default: chosen in the zone)'),
    diskofferingid: optional.uuid('the ID of the disk offering (accepted, not used: Ferry has no offerings)'),
  },
  async handle(p, ctx) {
    const sources = [p.size !== undefined, !!p.snapshotid, !!p.templateid].filter(Boolean).length;
    if (sources !== 1) throw paramError('Give exactly one of size (a blank volume), templateid or snapshotid.');
    if (!p.zoneid) {
      throw paramError(
        p.snapshotid
          ? 'zoneid is required to create a volume from a snapshot: the zone it is created in.'
          : 'zoneid is required: the zone the volume is created in.',
      );
    }
    const zone = await zoneById(ctx.db, p.zoneid);
    const id = randomUUID();
    let source: { type: 'template' | 'snapshot'; id: string; storeId: string; key: string } | undefined;
    let from = ''; // what the volume is made from, for the job's summary
    let hypervisor: string | undefined;
    /** The volume's virtual size: asked for, or its template's or snapshot's. */
    let bytes = p.size !== undefined ? p.size * GiB : 0;
    if (p.templateid) {
      const template = await templateById(ctx, p.templateid);
      const copies = await ctx.db.select().from(templateStoreRefs).where(eq(templateStoreRefs.templateId, template.id));
      const copy = await reachableCopy(
        ctx,
        `Template ${template.name}`,
        zone.name,
        zone.id,
        copies.map((c) => ({ storeId: c.storeId, key: c.installPath, state: c.state })),
      );
      source = { type: 'template', id: template.id, ...copy };
      from = ` from template ${template.name}`;
      hypervisor = template.hypervisor;
      bytes = (await templateVirtualBytes(ctx.db, template.id)) ?? 0;
    } else if (p.snapshotid) {
      const snapshot = await snapshotById(ctx, p.snapshotid);
      if (snapshot.state !== 'BackedUp') {
        throw paramError(`Snapshot ${snapshot.name} is ${snapshot.state}; a volume can be made only from BackedUp.`);
      }
      const copies = await ctx.db.select().from(snapshotStoreRefs).where(eq(snapshotStoreRefs.snapshotId, snapshot.id));
      const copy = await reachableCopy(
        ctx,
        `Snapshot ${snapshot.name}`,
        zone.name,
        zone.id,
        copies.map((c) => ({ storeId: c.storeId, key: c.installPath, state: c.state })),
      );
      source = { type: 'snapshot', id: snapshot.id, ...copy };
      from = ` from snapshot ${snapshot.name}`;
      bytes = snapshot.size ?? snapshot.physicalSize ?? 0;
    }
    const { pool, adapter } = await choosePool(ctx, zone.id, p.storageid, hypervisor);
    const format = adapter.poolFormat;
    const fileName = volumeFileName(id, format);
    await requirePoolSpace(ctx, pool, bytes, 'the volume');
    const volumeName = p.name ?? `volume-${id.slice(0, 8)}`;
    const jobid = await ctx.db.transaction(async (tx) => {
      await tx.insert(volumes).values({
        id,
        name: volumeName,
        zoneId: zone.id,
        poolId: pool.id,
        path: fileName,
        format,
        size: p.size !== undefined ? p.size * GiB : undefined,
        templateId: source?.type === 'template' ? source.id : undefined,
        snapshotId: source?.type === 'snapshot' ? source.id : undefined,
        ownerId: ctx.user.id,
      });
      const plan = await planned(() =>
        createVolumePlan(routeIn(tx), { volumeId: id, poolId: pool.id, fileName, source }),
      );
      return await startJob(
        { ...ctx, db: tx },
        {
          workflowType: 'createVolume',
          summary: `createVolume ${volumeName}${from} → ${pool.name}`,
          args: [{ plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
          instanceType: 'Volume',
          instanceId: id,
          zoneId: zone.id,
          request: { name: p.name, zoneid: zone.id, size: p.size, templateid: p.templateid, snapshotid: p.snapshotid },
        },
      );
    });
    return { jobid, id, volume: await volumeView(ctx.db, id) };
  },
});

export const listVolumes = defineCommand({
  name: 'listVolumes',
  description: 'Lists volumes: their pool (storageid), file on it (path), format and state',
  isAsync: false,
  params: {
    id: optional.uuid('the ID of the volume'),
    name: optional.string('the name of the volume'),
    zoneid: optional.uuid('the ID of the zone'),
    storageid: optional.uuid('the ID of the primary pool'),
    ...listParams,
  },
  async handle(p, ctx) {
    const filters = [
      p.id ? eq(volumes.id, p.id) : undefined,
      p.name ? eq(volumes.name, p.name) : undefined,
      p.zoneid ? eq(volumes.zoneId, p.zoneid) : undefined,
      p.storageid ? eq(volumes.poolId, p.storageid) : undefined,
    ].filter((f) => f !== undefined);
    const entries = await volumeEntries(ctx.db, filters.length ? and(...filters) : undefined);
    return listResponse(
      'volume',
      entries.filter((e) => e.state !== 'Expunged'),
      p,
    );
  },
});

const BUSY_VOLUME = ['Creating', 'Migrating', 'UploadOp', 'Destroy'];

export const deleteVolume = defineCommand({
  name: 'deleteVolume',
  description: 'Deletes a volume: its disk on primary and its copies on image stores; refused while it is busy',
  isAsync: true,
  params: { id: required.uuid('the ID of the volume') },
  async handle(p, ctx) {
    const volume = await volumeById(ctx, p.id);
    if (BUSY_VOLUME.includes(volume.state)) {
      throw new ApiError(ErrorCode.ResourceInUse, `Volume ${volume.name} is ${volume.state}; wait for its job to end.`);
    }
    const [busy] = await ctx.db
      .select({ id: snapshots.id })
      .from(snapshots)
      .where(and(eq(snapshots.volumeId, volume.id), inArray(snapshots.state, SNAPSHOT_IN_PROGRESS)));
    if (busy) {
      throw new ApiError(ErrorCode.ResourceInUse, `Volume ${volume.name} is being snapshotted; wait for that job.`);
    }
    const copies = await ctx.db
      .select()
      .from(volumeStoreRefs)
      .where(and(eq(volumeStoreRefs.volumeId, volume.id), inArray(volumeStoreRefs.state, ['Ready', 'Failed'])));
    const onPool = volume.poolId !== null && volume.path !== null && volume.state !== 'Allocated';
    const refs = copies.map((c) => ({ refId: c.id, storeId: c.storeId, key: c.installPath }));
    const from = [volume.state as 'Ready' | 'Error' | 'Allocated' | 'Uploaded' | 'UploadError'];
    const plan = deleteVolumePlan({
      volumeId: volume.id,
      ...(onPool ? { onPool: { poolId: volume.poolId!, fileName: volume.path! } } : {}),
      copies: refs,
    });
    const jobid = await startClaimedJob(
      ctx,
      deleteVolumeClaims({ volumeId: volume.id, from, copies: refs }),
      `Volume ${volume.name} is being worked on by another job; wait for it to end.`,
      {
        workflowType: 'deleteVolume',
        summary: `deleteVolume ${volume.name}`,
        args: [{ plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
        instanceType: 'Volume',
        instanceId: volume.id,
        zoneId: volume.zoneId,
        request: { id: volume.id },
      },
    );
    return { jobid };
  },
});
