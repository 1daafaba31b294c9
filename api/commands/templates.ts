// Template commands: register and list. The API validates, picks the stores or pools, writes the rows (Allocated) in one transaction and
// starts the workflow; it never moves bytes.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { parseChecksum } from '../../core/checksum';
import { failureErrorCode, isFailureType } from '../../core/failures';
import { templates, templateStoreRefs } from '../../db/schema';
import { openSource } from '../../net/fetch-source';
import { findHypervisor } from '../../plugins/hypervisors/registry';
import { templateKey } from '../../plugins/image-stores/layout';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import { downloadPolicy } from '../../planning/download-policy';
import { routeIn } from '../../planning/motion-request';
import { planned } from '../planned';
import { registerTemplatePlan } from '../../planning/jobs/templates';
import { listResponse } from '../list';
import { listParams, must, optional, ParamFormatError, required, UUID } from '../params';
import { templateEntries } from '../views/template';
import { requireStoreSpace } from './capacity-checks';
import { zoneById } from './lookup';
import { EXTENSION, FORMATS, writableStores } from './template-lookup';

/**
 * Reaches a user's URL under the download policy before anything is saved, so a refused or dead URL is a clear error
 * now rather than a failed job later. Answers the source's length when it says (Content-Length).
 */
export async function checkSource(ctx: CommandContext, url: string): Promise<{ bytes?: number }> {
  const policy = await downloadPolicy(ctx.db, ctx.config.serviceEndpoints);
  try {
    const res = await openSource(url, policy);
    const length = Number(res.headers.get('content-length') ?? NaN);
    await res.body?.cancel();
    return Number.isSafeInteger(length) && length > 0 ? { bytes: length } : {};
  } catch (err) {
    if (err instanceof ApplicationFailure) {
      const code = isFailureType(err.type) ? failureErrorCode[err.type] : ErrorCode.ResourceUnavailable;
      throw new ApiError(code, err.message);
    }
    throw new ApiError(ErrorCode.ResourceUnavailable, `${url} cannot be fetched; check the URL.`);
  }
}

export const registerTemplate = defineCommand({
  name: 'registerTemplate',
  description: 'Registers an existing template into the cloud: zone-wide, or region-wide on a region store (zoneid=-1)',
  isAsync: false,
  params: {
    name: required.string('the name of the template'),
    url: required.url('the URL of where the template is hosted (http or https)'),
    format: required.string(`the format of the template: ${FORMATS.join(', ')}`, must.beOneOf(...FORMATS)),
    hypervisor: required.string('the target hypervisor for the template: KVM, XenServer or VMware'),
    displaytext: optional.text('the display text of the template'),
    zoneid: optional.string('the ID of the zone the template is to be hosted on; -1 (or none) for region-wide', (v) => {
      if (v !== '-1' && !UUID.test(v)) throw new ParamFormatError('a zone UUID, or -1 for region-wide');
    }),
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
    const { bytes } = await checkSource(ctx, p.url);
    if (bytes !== undefined) for (const store of stores) await requireStoreSpace(ctx, store, bytes, 'the template');

    const id = randomUUID();
    const format = p.format.toUpperCase();
    const key = templateKey(ctx.user.account, id, `${id}.${EXTENSION[format]}`);
    // The rows, their plans and the job together: a plan that cannot be made or a job that cannot start leaves
    // no row behind.
    const jobid = await ctx.db.transaction(async (tx) => {
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
        // The source's length is reserved on each store until the download says its bytes.
        .values(stores.map((s) => ({ templateId: id, storeId: s.id, zoneId: s.zoneId, installPath: key, size: bytes })))
        .returning({ id: templateStoreRefs.id });
      const plans = await planned(() =>
        Promise.all(refs.map((r) => registerTemplatePlan(routeIn(tx), { templateId: id, url: p.url, refId: r.id }))),
      );
      return await startJob(
        { ...ctx, db: tx },
        {
          workflowType: 'registerTemplate',
          summary:
            `registerTemplate ${p.name} → ${stores.map((s) => s.name).join(', ')}` +
            (stores[0]!.scope === 'REGION' ? ' (region)' : ''),
          args: [{ plans, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
          instanceType: 'Template',
          instanceId: id,
          zoneId: zone?.id ?? 'region',
          request: { name: p.name, url: p.url, format, hypervisor: adapter.hypervisor, zoneid: p.zoneid ?? '-1' },
        },
      );
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
