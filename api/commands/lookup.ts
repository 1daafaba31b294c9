// Loading an entity a command names by id, with CloudStack's error when it does not exist.
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clusters, pods, zones } from '../../db/schema';
import { notFound } from '../errors';

export async function zoneById(db: Db, id: string) {
  const [row] = await db.select().from(zones).where(eq(zones.id, id));
  if (!row) throw notFound('Zone', id);
  return row;
}

export async function podById(db: Db, id: string) {
  const [row] = await db.select().from(pods).where(eq(pods.id, id));
  if (!row) throw notFound('Pod', id);
  return row;
}

export async function clusterById(db: Db, id: string) {
  const [row] = await db.select().from(clusters).where(eq(clusters.id, id));
  if (!row) throw notFound('Cluster', id);
  return row;
}
