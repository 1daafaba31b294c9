// Template commands on existing templates: copy, prepare, extract, delete. Each checks, writes the rows it needs and
// starts the workflow; the API never moves bytes.
import { and, eq, ne } from 'drizzle-orm';
import type { imageStores } from '../../db/schema';
import { clusters, storagePools, templatePoolRefs, templateStoreRefs } from '../../db/schema';
import { poolAndHost } from '../../db/pool-host';
import { readSetting } from '../../db/settings';
import { hypervisorAdapter } from '../../plugins/hypervisors/registry';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import { must, optional, required } from '../params';
import { templateEntries } from '../views/template';
import { zoneById } from './lookup';
import { EXTENSION, liveStoreRefs, templateById, writableStores } from './template-lookup';

export const deleteTemplate = defineCommand({
  name: 'deleteTemplate',
  description: 'Deletes a template from every store (or one zone); refused while prepared on pools unless forced',
  isAsync: true,
  params: {
    id: required.uuid('the ID of the template'),
    zoneid: optional.uuid("the ID of the zone of the template (only that zone's copies)"),
    forced: optional.boolean('force delete a template that is in use (prepared on primary pools)'),
  },
  async handle(p, ctx) {
    const template = await templateById(ctx, p.id);
    const storeCopies = (await liveStoreRefs(ctx, template.id)).filter((r) => !p.zoneid || r.ref.zoneId === p.zoneid);
    const pools = await ctx.db
      .select({ ref: templatePoolRefs, pool: storagePools })
      .from(templatePoolRefs)
      .innerJoin(storagePools, eq(storagePools.id, templatePoolRefs.poolId))
      .where(and(eq(templatePoolRefs.templateId, template.id), ne(templatePoolRefs.state, 'Destroyed')));
    const poolsHere = pools.filter((r) => !p.zoneid || r.pool.zoneId === p.zoneid);
    if (poolsHere.some((r) => r.ref.state === 'Ready') && !p.forced) {
      const names = poolsHere.map((r) => r.pool.name).join(', ');
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Template ${template.name} is in use on primary storage (${names}); pass forced=true to delete it anyway.`,
      );
    }
    if (storeCopies.some((r) => r.ref.state === 'Creating' || r.ref.state === 'Copying')) {
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Template ${template.name} is still being written; wait for its job to end.`,
      );
    }
    const poolCopies = [];
    for (const r of poolsHere) {
      const host = (await poolAndHost(ctx.db, r.pool.id))?.host;
      if (!host)
        throw new ApiError(
          ErrorCode.ResourceUnavailable,
          `No host of pool ${r.pool.name} is Up to remove the template from it.`,
        );
      poolCopies.push({ refId: r.ref.id, hostId: host.id, path: `${r.pool.path}/${r.ref.installPath}` });
    }
    const jobid = await startJob(ctx, {
      workflowType: 'deleteTemplate',
      args: [
        {
          templateId: template.id,
          storeCopies: storeCopies.map((r) => ({ refId: r.ref.id, storeId: r.store.id, key: r.ref.installPath })),
          poolCopies,
          heartbeatSeconds: ctx.config.transferHeartbeatSeconds,
        },
      ],
      instanceType: 'Template',
      instanceId: template.id,
      zoneId: p.zoneid ?? 'region',
      request: { id: p.id, zoneid: p.zoneid, forced: p.forced },
    });
    return { jobid };
  },
});

export const extractTemplate = defineCommand({
  name: 'extractTemplate',
  description: 'Extracts a template: a time-limited URL that downloads it',
  isAsync: true,
  params: {
    id: required.uuid('the ID of the template'),
    mode: optional.string('the mode of extraction: HTTP_DOWNLOAD', must.beOneOf('HTTP_DOWNLOAD')),
    zoneid: optional.uuid('the ID of the zone where the template is located'),
  },
  async handle(p, ctx) {
    const template = await templateById(ctx, p.id);
    const ready = (await liveStoreRefs(ctx, template.id)).filter((r) => r.ref.state === 'Ready');
    const copy =
      ready.find((r) => r.ref.zoneId === (p.zoneid ?? null)) ?? ready.find((r) => r.ref.zoneId === null) ?? ready[0];
    if (!copy) throw paramError(`Template ${template.name} has no ready copy to extract yet.`);
    const seconds = Number(await readSetting(ctx.db, 'extract.url.expiration.interval'));
    const jobid = await startJob(ctx, {
      workflowType: 'extractTemplate',
      args: [
        {
          templateId: template.id,
          storeId: copy.store.id,
          key: copy.ref.installPath,
          zoneId: copy.ref.zoneId,
          seconds,
        },
      ],
      instanceType: 'Template',
      instanceId: template.id,
      zoneId: copy.ref.zoneId ?? 'region',
      request: { id: p.id, mode: 'HTTP_DOWNLOAD', zoneid: p.zoneid },
    });
    return { jobid };
  },
});

/** Creates (or revives a Failed/Destroyed) store-ref row of a template on a store. */
async function storeRefFor(
  ctx: CommandContext,
  templateId: string,
  store: typeof imageStores.$inferSelect,
  key: string,
) {
  const [row] = await ctx.db
    .insert(templateStoreRefs)
    .values({ templateId, storeId: store.id, zoneId: store.zoneId, installPath: key })
    .onConflictDoUpdate({
      target: [templateStoreRefs.templateId, templateStoreRefs.storeId],
      set: { state: 'Allocated', errorText: null, downloadPercent: 0, installPath: key, updated: new Date() },
    })
    .returning();
  return row!;
}

export const copyTemplate = defineCommand({
  name: 'copyTemplate',
  description: 'Copies a template to other zones; a region-wide template is in every zone already, so nothing moves',
  isAsync: true,
  params: {
    id: required.uuid('Template ID'),
    sourcezoneid: optional.uuid('ID of the zone the template is currently hosted on'),
    destzoneid: optional.uuid('ID of the zone the template is being copied to'),
    destzoneids: optional.string('comma-separated IDs of the zones the template is being copied to'),
  },
  async handle(p, ctx) {
    const template = await templateById(ctx, p.id);
    const destinations = [p.destzoneid, ...(p.destzoneids?.split(',') ?? [])]
      .filter((z): z is string => !!z?.trim())
      .map((z) => z.trim().toLowerCase());
    if (destinations.length === 0) throw paramError('Give destzoneid or destzoneids.');
    for (const z of destinations) await zoneById(ctx.db, z);
    if (template.crossZones) return { template: (await templateEntries(ctx.db, [template.id]))[0] };

    const ready = (await liveStoreRefs(ctx, template.id)).filter((r) => r.ref.state === 'Ready');
    const source = ready.find((r) => !p.sourcezoneid || r.ref.zoneId === p.sourcezoneid);
    if (!source)
      throw paramError(`Template ${template.name} has no ready copy${p.sourcezoneid ? ' in the source zone' : ''}.`);
    const refIds: string[] = [];
    for (const zoneId of destinations) {
      if (ready.some((r) => r.ref.zoneId === zoneId)) continue; // already there
      const [store] = await writableStores(ctx, zoneId);
      if (!store) throw paramError(`Zone ${zoneId} has no writable image store to copy the template to.`);
      refIds.push((await storeRefFor(ctx, template.id, store, source.ref.installPath)).id);
    }
    if (refIds.length === 0) return { template: (await templateEntries(ctx.db, [template.id]))[0] };
    const jobid = await startJob(ctx, {
      workflowType: 'copyTemplate',
      args: [
        {
          templateId: template.id,
          sourceRefId: source.ref.id,
          destinationRefIds: refIds,
          heartbeatSeconds: ctx.config.transferHeartbeatSeconds,
        },
      ],
      instanceType: 'Template',
      instanceId: template.id,
      zoneId: destinations[0]!,
      request: { id: p.id, sourcezoneid: p.sourcezoneid, destzoneids: destinations.join(',') },
    });
    return { jobid };
  },
});

export const prepareTemplate = defineCommand({
  name: 'prepareTemplate',
  description: "Puts a template on a zone's primary storage pools, in each pool's hypervisor format",
  isAsync: true,
  params: {
    templateid: required.uuid('template ID of the template to be prepared in primary storage(s)'),
    zoneid: required.uuid('zone ID of the template to be prepared in primary storage(s)'),
    storageid: optional.uuid('storage pool ID of the primary storage pool to which the template should be prepared'),
  },
  async handle(p, ctx) {
    const template = await templateById(ctx, p.templateid);
    await zoneById(ctx.db, p.zoneid);
    if (template.format === 'ISO' || template.format === 'OVA') {
      throw paramError(`${template.format} templates are not prepared on primary storage; register a disk image.`);
    }
    const pools = await ctx.db
      .select({ pool: storagePools, cluster: clusters })
      .from(storagePools)
      .innerJoin(clusters, eq(clusters.id, storagePools.clusterId))
      .where(
        and(
          eq(storagePools.zoneId, p.zoneid),
          p.storageid ? eq(storagePools.id, p.storageid) : eq(clusters.hypervisor, template.hypervisor),
        ),
      );
    if (pools.length === 0)
      throw paramError(
        p.storageid
          ? `Pool ${p.storageid} is not a cluster pool of that zone.`
          : `Zone has no ${template.hypervisor} pool.`,
      );
    const ready = (await liveStoreRefs(ctx, template.id)).filter((r) => r.ref.state === 'Ready');
    const source = ready.find((r) => r.ref.zoneId === p.zoneid) ?? ready.find((r) => r.ref.zoneId === null);
    if (!source)
      throw paramError(`Template ${template.name} has no ready copy that zone can reach; copy it there first.`);
    const targets = [];
    for (const { pool, cluster } of pools) {
      const fileName = `${template.id}.${EXTENSION[hypervisorAdapter(cluster.hypervisor).poolFormat]}`;
      const [ref] = await ctx.db
        .insert(templatePoolRefs)
        .values({
          templateId: template.id,
          poolId: pool.id,
          installPath: fileName,
          format: hypervisorAdapter(cluster.hypervisor).poolFormat,
        })
        .onConflictDoUpdate({
          target: [templatePoolRefs.templateId, templatePoolRefs.poolId],
          set: { state: 'Allocated', errorText: null, updated: new Date() },
        })
        .returning();
      targets.push({ poolRefId: ref!.id, sourceRefId: source.ref.id });
    }
    const jobid = await startJob(ctx, {
      workflowType: 'prepareTemplate',
      args: [{ templateId: template.id, targets, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
      instanceType: 'Template',
      instanceId: template.id,
      zoneId: p.zoneid,
      request: { templateid: p.templateid, zoneid: p.zoneid, storageid: p.storageid },
    });
    return { jobid };
  },
});
