import { and, eq, type SQL } from 'drizzle-orm';
import { zones } from '../../db/schema';
import { defineCommand } from '../command';
import { paramError } from '../errors';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { zoneView } from '../views/inventory';
import { isUniqueViolation } from './unique';

export const listZones = defineCommand({
  name: 'listZones',
  description: 'Lists zones',
  isAsync: false,
  params: {
    id: optional.uuid('the ID of the zone'),
    name: optional.string('the name of the zone'),
    ...listParams,
  },
  async handle(p, { db }) {
    const where: SQL[] = [];
    if (p.id) where.push(eq(zones.id, p.id));
    if (p.name) where.push(eq(zones.name, p.name));
    const rows = await db
      .select()
      .from(zones)
      .where(and(...where))
      .orderBy(zones.name);
    return listResponse('zone', rows.map(zoneView), p);
  },
});

export const createZone = defineCommand({
  name: 'createZone',
  description: 'Creates a zone',
  isAsync: false,
  params: {
    name: required.string('the name of the zone', must.beName),
    networktype: optional.string('network type of the zone, Basic or Advanced', must.beOneOf('Basic', 'Advanced')),
    description: optional.text('a description of the zone'),
    dns1: optional.string('the first DNS server of the zone', must.beIPv4),
    internaldns1: optional.string('the first internal DNS server of the zone', must.beIPv4),
  },
  async handle(p, { db }) {
    try {
      const [zone] = await db
        .insert(zones)
        .values({
          name: p.name,
          description: p.description,
          networkType: p.networktype === 'basic' || p.networktype === 'Basic' ? 'Basic' : 'Advanced',
        })
        .returning();
      return { zone: zoneView(zone!) };
    } catch (err) {
      if (isUniqueViolation(err)) throw paramError(`A zone named ${p.name} already exists; choose another name.`);
      throw err;
    }
  },
});
