// Image-store commands: add (validate → check connectivity and credentials → save), list, update, enable, delete.
import { randomUUID } from 'node:crypto';
import { and, eq, type SQL } from 'drizzle-orm';
import { UrlRefused } from '../../core/url-policy';
import { imageStores } from '../../db/schema';
import { resolveAll } from '../../net/fetch-source';
import { checkStoreEndpoints, STORE_ENDPOINTS_SETTING } from '../../planning/store-endpoint-policy';
import { readSetting } from '../../db/settings';
import { StoreCheckError, type StoreScope } from '../../plugins/image-stores/contract';
import {
  findImageStoreProvider,
  imageStoreProviders,
  openImageStore,
  sealConfig,
} from '../../plugins/image-stores/registry';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, notFound, paramError } from '../errors';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { imageStoreView } from '../views/image-store';
import { loadNames } from '../views/inventory';
import { zoneById } from './lookup';
import { isUniqueViolation } from './unique';

const checkErrorCode = { config: 431, credentials: 431, 'missing-container': 431, unreachable: 534 } as const;

export interface NewImageStore {
  role?: 'Image' | 'ImageCache';
  provider: string;
  name?: string | undefined;
  url?: string | undefined;
  zoneid?: string | undefined;
  details?: Record<string, string> | undefined;
  /** Cache stores only: a pod or cluster of the zone narrows the store to the hosts there (checked by the caller). */
  within?: { scope: 'POD' | 'CLUSTER'; podId: string; clusterId?: string | undefined } | undefined;
}

/** The whole add path, shared with the deprecated add commands. Nothing is saved unless every check passes. */
export async function addImageStoreRow(ctx: CommandContext, input: NewImageStore) {
  const provider = findImageStoreProvider(input.provider);
  if (!provider) {
    const known = imageStoreProviders.map((p) => p.name).join(', ');
    throw paramError(
      `Image store provider ${input.provider} is unknown; use one of ${known} (listStorageProviders type=image).`,
    );
  }
  const scope: StoreScope = input.zoneid ? 'ZONE' : 'REGION';
  if (!provider.capabilities.scopes.includes(scope)) {
    throw paramError(
      scope === 'REGION'
        ? `${provider.name} image stores are zone-wide: give a zoneid.`
        : `${provider.name} image stores are region-wide: leave zoneid out.`,
    );
  }
  const zone = input.zoneid ? await zoneById(ctx.db, input.zoneid) : undefined;
  const name = input.name ?? `${provider.name.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const [clash] = await ctx.db.select({ id: imageStores.id }).from(imageStores).where(eq(imageStores.name, name));
  if (clash) throw paramError(`An image store named ${name} already exists; choose another name.`);

  const id = randomUUID();
  try {
    const config = provider.parse({ url: input.url, details: input.details ?? {} });
    const allowedEndpoints = await readSetting(ctx.db, STORE_ENDPOINTS_SETTING);
    await checkStoreEndpoints(allowedEndpoints, provider.name, config.settings, ctx.config.ownEndpoints, resolveAll)
      // A name that does not resolve is the driver's check to report (unreachable), as before.
      .catch((err: unknown) => {
        if (err instanceof UrlRefused) throw paramError(err.message);
      });
    const driver = provider.open(config, id, ctx.storeServices);
    let capacity;
    try {
      await driver.check();
      capacity = await driver.capacity();
    } finally {
      await driver.close();
    }
    const [row] = await ctx.db
      .insert(imageStores)
      .values({
        id,
        name,
        provider: provider.name,
        role: input.role ?? 'Image',
        scope: input.within?.scope ?? scope,
        zoneId: zone?.id,
        podId: input.within?.podId,
        clusterId: input.within?.clusterId,
        url: config.url,
        protocol: config.protocol,
        settings: config.settings,
        secretsCiphertext: sealConfig(config, ctx.secrets),
        totalBytes: capacity.totalBytes,
        usedBytes: capacity.usedBytes,
      })
      .returning();
    return imageStoreView(row!, await loadNames(ctx.db));
  } catch (err) {
    if (err instanceof StoreCheckError) throw new ApiError(checkErrorCode[err.kind], err.message);
    if (isUniqueViolation(err)) throw paramError(`An image store named ${name} already exists; choose another name.`);
    throw err;
  }
}

export async function listImageStoreRows(
  ctx: CommandContext,
  filters: Record<string, unknown>,
  role: 'Image' | 'ImageCache' = 'Image',
) {
  const where: SQL[] = [eq(imageStores.role, role)];
  if (typeof filters.id === 'string') where.push(eq(imageStores.id, filters.id));
  if (typeof filters.name === 'string') where.push(eq(imageStores.name, filters.name));
  if (typeof filters.zoneid === 'string') where.push(eq(imageStores.zoneId, filters.zoneid));
  if (typeof filters.protocol === 'string') where.push(eq(imageStores.protocol, filters.protocol.toLowerCase()));
  if (typeof filters.provider === 'string') {
    where.push(eq(imageStores.provider, findImageStoreProvider(filters.provider)?.name ?? filters.provider));
  }
  if (typeof filters.readonly === 'boolean') where.push(eq(imageStores.readonly, filters.readonly));
  const rows = await ctx.db
    .select()
    .from(imageStores)
    .where(and(...where))
    .orderBy(imageStores.name);
  const names = await loadNames(ctx.db);
  return rows.map((r) => imageStoreView(r, names));
}

export const imageStoreListParams = {
  id: optional.uuid('the ID of the storage pool'),
  name: optional.string('the name of the image store'),
  zoneid: optional.uuid('the Zone ID for the image store'),
  protocol: optional.string('the image store protocol'),
  provider: optional.string('the image store provider'),
  readonly: optional.boolean('read-only status of the image store'),
  ...listParams,
};

export async function storeById(ctx: CommandContext, id: string, role: 'Image' | 'ImageCache' = 'Image') {
  const [row] = await ctx.db
    .select()
    .from(imageStores)
    .where(and(eq(imageStores.id, id), eq(imageStores.role, role)));
  if (!row) throw notFound(role === 'Image' ? 'ImageStore' : 'SecondaryStagingStore', id);
  return row;
}

/** Deletes a store row unless the store still holds objects (536). */
export async function deleteEmptyStore(ctx: CommandContext, store: typeof imageStores.$inferSelect) {
  const driver = openImageStore(store, ctx.secrets, ctx.storeServices);
  try {
    for await (const object of driver.list('')) {
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Store ${store.name} still holds objects (for example ${object.key}); delete or move them first.`,
      );
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(
      ErrorCode.ResourceUnavailable,
      `Cannot tell whether store ${store.name} is empty: ${(err as Error).message}`,
    );
  } finally {
    await driver.close();
  }
  await ctx.db.delete(imageStores).where(eq(imageStores.id, store.id));
  return { success: true };
}

export const addImageStore = defineCommand({
  name: 'addImageStore',
  description: 'Adds backup image store. Connectivity and credentials are checked before anything is saved',
  isAsync: false,
  params: {
    provider: required.string('the image store provider name: NFS, S3 or Swift'),
    name: optional.string('the name for the image store', must.beName),
    url: optional.url('the URL for the image store'),
    zoneid: optional.uuid('the Zone ID for the image store; none makes a region-wide store'),
    details: optional.map('the details for the image store: details[0].key=bucket&details[0].value=images'),
  },
  async handle(p, ctx) {
    return { imagestore: await addImageStoreRow(ctx, p) };
  },
});

export const listImageStores = defineCommand({
  name: 'listImageStores',
  description: 'Lists image stores',
  isAsync: false,
  params: imageStoreListParams,
  async handle(p, ctx) {
    return listResponse('imagestore', await listImageStoreRows(ctx, p), p);
  },
});

export const updateImageStore = defineCommand({
  name: 'updateImageStore',
  description:
    'Updates an image store: its name, read-only (a read-only store takes no new objects), or its capacity in bytes',
  isAsync: false,
  params: {
    id: required.uuid('Image Store UUID'),
    name: optional.string('the new name for the image store', must.beName),
    readonly: optional.boolean('if true, the image store takes no new writes'),
    capacitybytes: optional.long(
      'the bytes Ferry may use on the image store, where its backend does not report a size (S3); a size the ' +
        'backend reports (NFS, Swift with a quota) replaces it at the next capacity check, as in CloudStack',
      must.bePositive,
    ),
  },
  async handle(p, ctx) {
    const store = await storeById(ctx, p.id);
    try {
      const [row] = await ctx.db
        .update(imageStores)
        .set({
          name: p.name ?? store.name,
          readonly: p.readonly ?? store.readonly,
          totalBytes: p.capacitybytes ?? store.totalBytes,
        })
        .where(eq(imageStores.id, p.id))
        .returning();
      return { imagestore: imageStoreView(row!, await loadNames(ctx.db)) };
    } catch (err) {
      if (isUniqueViolation(err))
        throw paramError(`An image store named ${p.name} already exists; choose another name.`);
      throw err;
    }
  },
});

export const enableImageStore = defineCommand({
  name: 'enableImageStore',
  description: 'Enables an image store for writes again (clears read-only)',
  isAsync: false,
  params: { id: required.uuid('Image Store UUID') },
  async handle(p, ctx) {
    await storeById(ctx, p.id);
    const [row] = await ctx.db.update(imageStores).set({ readonly: false }).where(eq(imageStores.id, p.id)).returning();
    return { imagestore: imageStoreView(row!, await loadNames(ctx.db)) };
  },
});

export const deleteImageStore = defineCommand({
  name: 'deleteImageStore',
  description: 'Deletes an image store; refused while it holds objects',
  isAsync: false,
  params: { id: required.uuid('the image store ID') },
  async handle(p, ctx) {
    return await deleteEmptyStore(ctx, await storeById(ctx, p.id));
  },
});

export const listStorageProviders = defineCommand({
  name: 'listStorageProviders',
  description: 'Lists storage providers',
  isAsync: false,
  params: {
    type: required.string(
      'the type of storage provider: image, primary or cache',
      must.beOneOf('image', 'primary', 'cache'),
    ),
  },
  handle(p) {
    const type = p.type.toLowerCase();
    // Primary pools are directories the hosts mount (SharedMountPoint); a cache store needs a provider hosts can mount.
    const providers =
      type === 'primary'
        ? [{ name: 'DefaultPrimary', type: 'PRIMARY' }]
        : imageStoreProviders
            .filter((provider) => type === 'image' || provider.capabilities.hostMountable)
            .map((provider) => ({
              name: provider.name,
              type: type === 'image' ? 'IMAGE' : 'ImageCache',
              capabilities: provider.capabilities,
            }));
    return Promise.resolve({ count: providers.length, dataStoreProvider: providers });
  },
});
