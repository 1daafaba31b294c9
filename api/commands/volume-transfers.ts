// Volumes in and out of the cloud: uploadVolume (URL → image store, checked like a template) and extractVolume
// (a time-limited URL; a volume on primary is first copied to an image store by its host).
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { parseChecksum } from '../../core/checksum';
import { volumes, volumeStoreRefs } from '../../db/schema';
import { readSetting } from '../../db/settings';
import { volumeKey } from '../../plugins/image-stores/layout';
import { defineCommand } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import { routeIn } from '../../planning/motion-request';
import { planned } from '../planned';
import type { Plan } from '../../core/plan';
import { extractVolumePlan, uploadVolumePlan } from '../../planning/jobs/volumes';
import { must, optional, required } from '../params';
import { volumeView } from '../views/volume';
import { zoneById } from './lookup';
import { EXTENSION, FORMATS } from './template-lookup';
import { requireStoreSpace } from './capacity-checks';
import { checkSource } from './templates';
import { poolWithHost, storesForZone, volumeById } from './volume-lookup';

const DISK_FORMATS = FORMATS.filter((f) => f !== 'ISO');

export const uploadVolume = defineCommand({
  name: 'uploadVolume',
  description: 'Uploads a data disk from a URL to an image store of the zone (state Uploaded when done)',
  isAsync: true,
  params: {
    name: required.string('the name of the volume'),
    url: required.url('the URL of where the volume is hosted (http or https)'),
    format: required.string(`the format of the volume: ${DISK_FORMATS.join(', ')}`, must.beOneOf(...DISK_FORMATS)),
    zoneid: required.uuid('the ID of the zone the volume is to be hosted on'),
    checksum: optional.string('the checksum of the volume: {SHA-256}hex, {MD5}hex or MD5 hex'),
  },
  async handle(p, ctx) {
    if (p.checksum && !parseChecksum(p.checksum)) {
      throw paramError('checksum must be {SHA-256}<64 hex>, {MD5}<32 hex> or a bare MD5/SHA-256 hex digest.');
    }
    const zone = await zoneById(ctx.db, p.zoneid);
    const [store] = await storesForZone(ctx, zone.id, false);
    if (!store) throw paramError(`Zone ${zone.name} has no writable image store and there is no region store.`);
    const { bytes } = await checkSource(ctx, p.url);
    if (bytes !== undefined) await requireStoreSpace(ctx, store, bytes, 'the volume');
    const id = randomUUID();
    const format = p.format.toUpperCase();
    const key = volumeKey(ctx.user.account, id, `${id}.${EXTENSION[format]}`);
    const jobid = await ctx.db.transaction(async (tx) => {
      await tx.insert(volumes).values({
        id,
        name: p.name,
        zoneId: zone.id,
        format,
        state: 'UploadOp',
        url: p.url,
        checksum: p.checksum,
        ownerId: ctx.user.id,
      });
      const [ref] = await tx
        .insert(volumeStoreRefs)
        // The source's length is reserved on the store until the upload says its bytes.
        .values({ volumeId: id, storeId: store.id, installPath: key, size: bytes })
        .returning({ id: volumeStoreRefs.id });
      const plan = await planned(() =>
        uploadVolumePlan(routeIn(tx), { volumeId: id, url: p.url, refId: ref!.id, storeId: store.id, key }),
      );
      return await startJob(
        { ...ctx, db: tx },
        {
          workflowType: 'uploadVolume',
          summary: `uploadVolume ${p.name} → ${store.name}`,
          args: [{ plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
          instanceType: 'Volume',
          instanceId: id,
          zoneId: zone.id,
          request: { name: p.name, url: p.url, format, zoneid: zone.id },
        },
      );
    });
    return { jobid, id, volume: await volumeView(ctx.db, id) };
  },
});

export const extractVolume = defineCommand({
  name: 'extractVolume',
  description: 'Extracts a volume: a time-limited URL to download it (copied to an image store first if needed)',
  isAsync: true,
  params: {
    id: required.uuid('the ID of the volume'),
    zoneid: required.uuid('the ID of the zone where the volume is located'),
    mode: required.string('the mode of extraction: HTTP_DOWNLOAD', must.beOneOf('HTTP_DOWNLOAD')),
  },
  async handle(p, ctx) {
    const volume = await volumeById(ctx, p.id);
    if (volume.zoneId !== p.zoneid) throw paramError(`Volume ${volume.name} is not in zone ${p.zoneid}.`);
    const seconds = Number(await readSetting(ctx.db, 'extract.url.expiration.interval'));
    const start = (db: typeof ctx.db, plan: Plan) =>
      startJob(
        { ...ctx, db },
        {
          workflowType: 'extractVolume',
          summary: `extractVolume ${volume.name}`,
          args: [
            { volumeId: volume.id, zoneId: volume.zoneId, plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds },
          ],
          instanceType: 'Volume',
          instanceId: volume.id,
          zoneId: volume.zoneId,
          request: { id: volume.id, zoneid: p.zoneid, mode: p.mode },
        },
      );
    let jobid: string;
    if (volume.state === 'Uploaded') {
      const [copy] = await ctx.db
        .select()
        .from(volumeStoreRefs)
        .where(and(eq(volumeStoreRefs.volumeId, volume.id), eq(volumeStoreRefs.state, 'Ready')));
      if (!copy) throw new ApiError(ErrorCode.InternalError, `Uploaded volume ${volume.name} has no Ready copy.`);
      const plan = await extractVolumePlan(routeIn(ctx.db), {
        volumeId: volume.id,
        refId: copy.id,
        storeId: copy.storeId,
        key: copy.installPath,
        seconds,
      });
      jobid = await start(ctx.db, plan);
    } else if (volume.state === 'Ready' && volume.poolId && volume.path) {
      await poolWithHost(ctx, volume.poolId);
      const [store] = await storesForZone(ctx, volume.zoneId, false);
      if (!store) throw paramError("No writable image store serves the volume's zone to extract it to.");
      const key = volumeKey(ctx.user.account, volume.id, volume.path);
      const fromPool = { poolId: volume.poolId, fileName: volume.path };
      jobid = await ctx.db.transaction(async (tx) => {
        // One job per copy: a copy another extraction is writing is not taken over.
        const [ref] = await tx
          .insert(volumeStoreRefs)
          .values({ volumeId: volume.id, storeId: store.id, installPath: key })
          .onConflictDoUpdate({
            target: [volumeStoreRefs.volumeId, volumeStoreRefs.storeId],
            set: {
              state: 'Allocated',
              installPath: key,
              errorText: null,
              downloadPercent: 0,
              transferState: null,
              updated: new Date(),
            },
            setWhere: inArray(volumeStoreRefs.state, ['Failed', 'Destroyed', 'Ready']),
          })
          .returning({ id: volumeStoreRefs.id });
        if (!ref) {
          throw new ApiError(ErrorCode.ResourceInUse, `Volume ${volume.name} is being extracted already; wait for it.`);
        }
        const plan = await planned(() =>
          extractVolumePlan(routeIn(tx), {
            volumeId: volume.id,
            refId: ref.id,
            storeId: store.id,
            key,
            seconds,
            fromPool,
          }),
        );
        return await start(tx, plan);
      });
    } else {
      throw paramError(`Volume ${volume.name} is ${volume.state}; only a Ready or Uploaded volume can be extracted.`);
    }
    return { jobid };
  },
});
