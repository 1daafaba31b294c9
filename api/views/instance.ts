// The entity a finished job made or changed, under its object name (the jobresult of queryAsyncJobResult).
import { eq } from 'drizzle-orm';
import { hosts } from '../../db/schema';
import type { CommandContext } from '../command';
import { templateEntries } from './template';
import { hostView, loadNames } from './inventory';
import { snapshotView, volumeView } from './volume';

export async function instanceView(
  ctx: CommandContext,
  type: string | null,
  id: string | null,
): Promise<Record<string, unknown>> {
  if (!type || !id) return {};
  if (type === 'Host') {
    const [h] = await ctx.db.select().from(hosts).where(eq(hosts.id, id));
    return h ? { host: hostView(h, await loadNames(ctx.db)) } : {};
  }
  if (type === 'Template') {
    const entries = await templateEntries(ctx.db, [id]);
    return entries.length > 0 ? { template: entries.length === 1 ? entries[0] : entries } : { success: true };
  }
  if (type === 'Volume') {
    const volume = await volumeView(ctx.db, id);
    return volume ? { volume } : { success: true };
  }
  if (type === 'Snapshot') {
    const snapshot = await snapshotView(ctx.db, id);
    return snapshot ? { snapshot } : { success: true };
  }
  return {};
}
