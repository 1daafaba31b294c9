// Template commands on existing templates: copy, prepare, extract, delete. Each checks, writes the rows it needs and
// starts the workflow; the API never moves bytes.
import { and, eq, inArray, ne } from 'drizzle-orm';
import type { imageStores } from '../../db/schema';
import { clusters, storagePools, templatePoolRefs, templateStoreRefs } from '../../db/schema';
import { poolAndHost } from '../../db/pool-host';
import { readSetting } from '../../db/settings';
import { hypervisorAdapter } from '../../plugins/hypervisors/registry';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import type { Plan } from '../../core/plan';
import { routeIn } from '../../planning/motion-request';
import { planned, startClaimedJob } from '../planned';
import {
  copyTemplatePlan,
  deleteTemplateCopyClaim,
  deleteTemplateCopyPlan,
  extractPlan,
  prepareTemplatePlan,
} from '../../planning/jobs/templates';
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
    const plans: Plan[] = [];
    for (const r of poolsHere) {
      const host = (await poolAndHost(ctx.db, r.pool.id))?.host;
      if (!host)
        throw new ApiError(
          ErrorCode.ResourceUnavailable,
          `No host of pool ${r.pool.name} is Up to remove the template from it.`,
        );
      const path = `${r.pool.path}/${r.ref.installPath}`;
      plans.push(deleteTemplateCopyPlan({ kind: 'pool', refId: r.ref.id, hostId: host.id, path }));
    }
    for (const r of storeCopies) {
      plans.push(
        deleteTemplateCopyPlan({ kind: 'store', refId: r.ref.id, storeId: r.store.id, key: r.ref.installPath }),
      );
    }
    const claims = [
      ...poolsHere.map((r) => deleteTemplateCopyClaim({ kind: 'pool', refId: r.ref.id })),
      ...storeCopies.map((r) => deleteTemplateCopyClaim({ kind: 'store', refId: r.ref.id })),
    ];
    const jobid = await startClaimedJob(
      ctx,
      claims,
      `Template ${template.name} is being worked on by another job; wait for it to end.`,
      {
        workflowType: 'deleteTemplate',
        summary: `deleteTemplate ${template.name}${p.zoneid ? ` in zone ${p.zoneid}` : ''}`,
        args: [{ templateId: template.id, plans, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
        instanceType: 'Template',
        instanceId: template.id,
        zoneId: p.zoneid ?? 'region',
        request: { id: p.id, zoneid: p.zoneid, forced: p.forced },
      },
    );
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
      summary: `extractTemplate ${template.name} from ${copy.store.name}`,
      args: [
        {
          templateId: template.id,
          zoneId: copy.ref.zoneId,
          plan: extractPlan({ storeId: copy.store.id, key: copy.ref.installPath, seconds }),
          heartbeatSeconds: ctx.config.transferHeartbeatSeconds,
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

/**
 * Creates the store-ref row of a template on a store, or revives a Failed or Destroyed one (its stale transfer state
 * cleared). A row another job is writing is refused with 536: one job per copy.
 */
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
      set: {
        state: 'Allocated',
        errorText: null,
        downloadPercent: 0,
        transferState: null,
        installPath: key,
        updated: new Date(),
      },
      setWhere: inArray(templateStoreRefs.state, ['Failed', 'Destroyed']),
    })
    .returning();
  if (!row) {
    throw new ApiError(
      ErrorCode.ResourceInUse,
      `The template's copy on store ${store.name} is being written or removed by another job; wait for it to end.`,
    );
  }
  return row;
}

export const copyTemplate = defineCommand({
  name: 'copyTemplate',
  description: 'Copies a template to other zones; a region-wide template is in every zone already, so nothing moves',
  isAsync: true,
  params: {
    id: required.uuid('Template ID'),
    sourcezoneid: optional.uuid('ID of the zone the template is currently hosted on'),
    destzoneid: optional.uuid('ID of the zone the template is being copied to'),
    destzoneids: optional.uuidList('comma-separated IDs of the zones the template is being copied to'),
  },
  async handle(p, ctx) {
    const template = await templateById(ctx, p.id);
    const destinations = [...new Set([p.destzoneid, ...(p.destzoneids ?? [])].filter((z) => z !== undefined))];
    if (destinations.length === 0) throw paramError('Give destzoneid or destzoneids.');
    for (const z of destinations) await zoneById(ctx.db, z);
    if (template.crossZones) return { template: (await templateEntries(ctx.db, [template.id]))[0] };

    const ready = (await liveStoreRefs(ctx, template.id)).filter((r) => r.ref.state === 'Ready');
    const source = ready.find((r) => !p.sourcezoneid || r.ref.zoneId === p.sourcezoneid);
    if (!source)
      throw paramError(`Template ${template.name} has no ready copy${p.sourcezoneid ? ' in the source zone' : ''}.`);
    const stores: (typeof imageStores.$inferSelect)[] = [];
    for (const zoneId of new Set(destinations)) {
      if (ready.some((r) => r.ref.zoneId === zoneId)) continue; // already there
      const [store] = await writableStores(ctx, zoneId);
      if (!store) throw paramError(`Zone ${zoneId} has no writable image store to copy the template to.`);
      stores.push(store);
    }
    if (stores.length === 0) return { template: (await templateEntries(ctx.db, [template.id]))[0] };
    const jobid = await ctx.db.transaction(async (tx) => {
      const txCtx = { ...ctx, db: tx };
      const plans = [];
      for (const store of stores) {
        const ref = await storeRefFor(txCtx, template.id, store, source.ref.installPath);
        plans.push(
          await planned(() =>
            copyTemplatePlan(routeIn(tx), { templateId: template.id, sourceRefId: source.ref.id, refId: ref.id }),
          ),
        );
      }
      return await startJob(txCtx, {
        workflowType: 'copyTemplate',
        summary: `copyTemplate ${template.name} ${source.store.name} → ${stores.map((s) => s.name).join(', ')}`,
        args: [{ plans, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
        instanceType: 'Template',
        instanceId: template.id,
        zoneId: destinations[0]!,
        request: { id: p.id, sourcezoneid: p.sourcezoneid, destzoneids: destinations.join(',') },
      });
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
    const jobid = await ctx.db.transaction(async (tx) => {
      const plans = [];
      for (const { pool, cluster } of pools) {
        const format = hypervisorAdapter(cluster.hypervisor).poolFormat;
        const fileName = `${template.id}.${EXTENSION[format]}`;
        const [ref] = await tx
          .insert(templatePoolRefs)
          .values({ templateId: template.id, poolId: pool.id, installPath: fileName, format })
          .onConflictDoUpdate({
            target: [templatePoolRefs.templateId, templatePoolRefs.poolId],
            set: { state: 'Allocated', errorText: null, updated: new Date() },
            setWhere: inArray(templatePoolRefs.state, ['Failed', 'Destroyed']),
          })
          .returning();
        if (!ref) {
          const [now] = await tx
            .select({ state: templatePoolRefs.state })
            .from(templatePoolRefs)
            .where(and(eq(templatePoolRefs.templateId, template.id), eq(templatePoolRefs.poolId, pool.id)));
          if (now?.state === 'Ready') continue; // prepared already
          throw new ApiError(
            ErrorCode.ResourceInUse,
            `Template ${template.name} is being prepared on or removed from pool ${pool.name}; wait for that job.`,
          );
        }
        plans.push(
          await planned(() =>
            prepareTemplatePlan(routeIn(tx), {
              templateId: template.id,
              sourceRefId: source.ref.id,
              poolRefId: ref.id,
            }),
          ),
        );
      }
      return await startJob(
        { ...ctx, db: tx },
        {
          workflowType: 'prepareTemplate',
          summary: `prepareTemplate ${template.name} → ${pools.map(({ pool }) => pool.name).join(', ')}`,
          args: [{ plans, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
          instanceType: 'Template',
          instanceId: template.id,
          zoneId: p.zoneid,
          request: { templateid: p.templateid, zoneid: p.zoneid, storageid: p.storageid },
        },
      );
    });
    return { jobid };
  },
});
