// Template commands. The API validates, picks the stores or pools, writes the rows (Allocated) in one transaction and
// starts the workflow; it never moves bytes.
import { lookup } from 'node:dns/promises';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq, isNull, ne } from 'drizzle-orm';
import { parseChecksum } from '../../core/checksum';
import { failureErrorCode, isFailureType } from '../../core/failures';
import { checkDownloadUrl, parseCidrList, UrlRefused } from '../../core/url-policy';
import {
  clusters,
  hosts,
  imageStores,
  storagePools,
  templatePoolRefs,
  templates,
  templateStoreRefs,
} from '../../db/schema';
import { readSetting } from '../../db/settings';
import { openSource } from '../../activities/fetch-source';
import { findHypervisor, hypervisorAdapter } from '../../plugins/hypervisors/registry';
import { templateKey } from '../../plugins/image-stores/layout';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, notFound, paramError } from '../errors';
import { startJob } from '../jobs';
import { listResponse } from '../list';
import { listParams, must, optional, required, UUID } from '../params';
import { templateEntries } from '../views/template';
import { zoneById } from './lookup';

const FORMATS = ['QCOW2', 'VHD', 'VMDK', 'OVA', 'RAW', 'ISO'] as const;
const EXTENSION: Record<string, string> = {
  QCOW2: 'qcow2',
  VHD: 'vhd',
  VMDK: 'vmdk',
  OVA: 'ova',
  RAW: 'raw',
  ISO: 'iso',
};

async function templateById(ctx: CommandContext, id: string) {
  const [t] = await ctx.db
    .select()
    .from(templates)
    .where(and(eq(templates.id, id), isNull(templates.removed)));
  if (!t) throw notFound('Template', id);
  return t;
}

/** Writable image stores: a zone's own, or the region's. Read-only stores take no new objects. */
async function writableStores(ctx: CommandContext, zoneId: string | null) {
  return ctx.db
    .select()
    .from(imageStores)
    .where(
      and(
        eq(imageStores.role, 'Image'),
        eq(imageStores.readonly, false),
        zoneId ? eq(imageStores.zoneId, zoneId) : eq(imageStores.scope, 'REGION'),
      ),
    )
    .orderBy(asc(imageStores.name));
}

async function checkSource(ctx: CommandContext, url: string) {
  const allowed = parseCidrList(await readSetting(ctx.db, 'secstorage.allowed.internal.download.sites'));
  try {
    await checkDownloadUrl(url, allowed, async (h) => (await lookup(h, { all: true })).map((a) => a.address));
    // Reach it now, so a 404 or a dead host is refused before anything is saved.
    const res = await openSource(url, allowed);
    await res.body?.cancel();
  } catch (err) {
    if (err instanceof UrlRefused) throw paramError(err.message);
    if (err instanceof ApplicationFailure) {
      const code = isFailureType(err.type) ? failureErrorCode[err.type] : ErrorCode.ResourceUnavailable;
      throw new ApiError(code, err.message);
    }
    throw new ApiError(ErrorCode.ResourceUnavailable, `${url} cannot be fetched: ${(err as Error).message}`);
  }
}

export const registerTemplate = defineCommand({
  name: 'registerTemplate',
  description: 'Registers an existing template into the cloud: zone-wide, or region-wide on a region store (zoneid=-1)',
  isAsync: false,
  params: {
    name: required.string('the name of the template'),
    url: required.string('the URL of where the template is hosted (http or https)'),
    format: required.string(`the format of the template: ${FORMATS.join(', ')}`, must.beOneOf(...FORMATS)),
    hypervisor: required.string('the target hypervisor for the template: KVM, XenServer or VMware'),
    displaytext: optional.string('the display text of the template'),
    zoneid: optional.string('the ID of the zone the template is to be hosted on; -1 (or none) for region-wide'),
    checksum: optional.string('the checksum of the template: {SHA-256}hex, {MD5}hex or MD5 hex'),
    ispublic: optional.boolean('true if the template is available to all accounts (and every store of its zone)'),
    isextractable: optional.boolean('true if the template or its derivatives are extractable'),
    ostypeid: optional.string('the ID of the OS type that best represents the OS of this template'),
  },
  async handle(p, ctx) {
    const adapter = findHypervisor(p.hypervisor);
    if (!adapter) throw paramError(`Hypervisor ${p.hypervisor} is not supported; use KVM, XenServer or VMware.`);
    if (p.checksum && !parseChecksum(p.checksum)) {
      throw paramError('checksum must be {SHA-256}<64 hex>, {MD5}<32 hex> or a bare MD5/SHA-256 hex digest.');
    }
    const regionWide = !p.zoneid || p.zoneid === '-1';
    if (!regionWide && !UUID.test(p.zoneid!)) throw paramError(`zoneid ${p.zoneid} is not a zone id (a UUID, or -1).`);
    const zone = regionWide ? undefined : await zoneById(ctx.db, p.zoneid!.toLowerCase());
    let stores = await writableStores(ctx, zone?.id ?? null);
    if (!regionWide && stores.length === 0) stores = await writableStores(ctx, null);
    if (stores.length === 0) {
      throw paramError(
        regionWide
          ? 'There is no writable region-wide image store: add one (addImageStore without zoneid) or give a zoneid.'
          : `Zone ${zone!.name} has no writable image store and there is no region store; add one first.`,
      );
    }
    // CloudStack: a private template gets one store of the zone, a public one every store.
    if (!p.ispublic) stores = stores.slice(0, 1);
    await checkSource(ctx, p.url);

    const id = randomUUID();
    const format = p.format.toUpperCase();
    const key = templateKey(ctx.user.account, id, `${id}.${EXTENSION[format]}`);
    const refIds = await ctx.db.transaction(async (tx) => {
      await tx.insert(templates).values({
        id,
        name: p.name,
        displayText: p.displaytext ?? p.name,
        format,
        hypervisor: adapter.hypervisor,
        url: p.url,
        checksum: p.checksum,
        isPublic: p.ispublic ?? false,
        crossZones: stores[0]!.scope === 'REGION',
        ownerId: ctx.user.id,
      });
      const refs = await tx
        .insert(templateStoreRefs)
        .values(stores.map((s) => ({ templateId: id, storeId: s.id, zoneId: s.zoneId, installPath: key })))
        .returning({ id: templateStoreRefs.id });
      return refs.map((r) => r.id);
    });
    const jobid = await startJob(ctx, {
      workflowType: 'registerTemplate',
      args: [
        { templateId: id, url: p.url, storeRefIds: refIds, heartbeatSeconds: ctx.config.transferHeartbeatSeconds },
      ],
      instanceType: 'Template',
      instanceId: id,
      zoneId: zone?.id ?? 'region',
      request: { name: p.name, url: p.url, format, hypervisor: adapter.hypervisor, zoneid: p.zoneid ?? '-1' },
    });
    return { count: 1, template: await templateEntries(ctx.db, [id]), jobid, id };
  },
});

export const listTemplates = defineCommand({
  name: 'listTemplates',
  description: 'List all public, private, and privileged templates',
  isAsync: false,
  params: {
    templatefilter: optional.string('featured, self, selfexecutable, sharedexecutable, executable, community, all'),
    id: optional.uuid('the template ID'),
    name: optional.string('the template name'),
    zoneid: optional.uuid('list templates by zoneid (region-wide templates are in every zone)'),
    hypervisor: optional.string('the hypervisor for which to restrict the search'),
    ...listParams,
  },
  async handle(p, ctx) {
    let entries = await templateEntries(ctx.db, p.id ? [p.id] : undefined);
    if (p.name) entries = entries.filter((e) => e.name === p.name);
    if (p.zoneid) entries = entries.filter((e) => e.crossZones || e.zoneid === p.zoneid);
    if (p.hypervisor) entries = entries.filter((e) => e.hypervisor.toLowerCase() === p.hypervisor!.toLowerCase());
    return listResponse('template', entries, p);
  },
});

async function liveStoreRefs(ctx: CommandContext, templateId: string) {
  return ctx.db
    .select({ ref: templateStoreRefs, store: imageStores })
    .from(templateStoreRefs)
    .innerJoin(imageStores, eq(imageStores.id, templateStoreRefs.storeId))
    .where(and(eq(templateStoreRefs.templateId, templateId), ne(templateStoreRefs.state, 'Destroyed')));
}

/** An Up host of the pool's cluster, which does the pool's disk work. */
async function poolHost(ctx: CommandContext, poolId: string) {
  const [row] = await ctx.db
    .select({ host: hosts, pool: storagePools })
    .from(storagePools)
    .innerJoin(hosts, eq(hosts.clusterId, storagePools.clusterId))
    .where(and(eq(storagePools.id, poolId), eq(hosts.state, 'Up')))
    .orderBy(asc(hosts.name));
  return row;
}

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
      const host = await poolHost(ctx, r.pool.id);
      if (!host)
        throw new ApiError(
          ErrorCode.ResourceUnavailable,
          `No host of pool ${r.pool.name} is Up to remove the template from it.`,
        );
      poolCopies.push({ refId: r.ref.id, hostId: host.host.id, path: `${r.pool.path}/${r.ref.installPath}` });
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
