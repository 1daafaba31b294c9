import { and, eq, type SQL } from 'drizzle-orm';
import { pods } from '../../db/schema';
import { defineCommand } from '../command';
import { paramError } from '../errors';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { loadNames, podView } from '../views/inventory';
import { zoneById } from './lookup';
import { isUniqueViolation } from './unique';

export const listPods = defineCommand({
  name: 'listPods',
  description: 'Lists all pods',
  isAsync: false,
  params: {
    id: optional.uuid('list pods by pod ID'),
    name: optional.string('list pods by name'),
    zoneid: optional.uuid('list pods by zone ID'),
    ...listParams,
  },
  async handle(p, { db }) {
    const where: SQL[] = [];
    if (p.id) where.push(eq(pods.id, p.id));
    if (p.name) where.push(eq(pods.name, p.name));
    if (p.zoneid) where.push(eq(pods.zoneId, p.zoneid));
    const rows = await db
      .select()
      .from(pods)
      .where(and(...where))
      .orderBy(pods.name);
    const names = await loadNames(db);
    return listResponse(
      'pod',
      rows.map((r) => podView(r, names)),
      p,
    );
  },
});

export const createPod = defineCommand({
  name: 'createPod',
  description: 'Creates a new Pod',
  isAsync: false,
  params: {
    name: required.string('the name of the Pod', must.beName),
    zoneid: required.uuid('the Zone ID in which the Pod will be created'),
    gateway: optional.string('the gateway for the Pod', must.beIPv4),
    netmask: optional.string('the netmask for the Pod', must.beIPv4),
    startip: optional.string('the starting IP address for the Pod', must.beIPv4),
    endip: optional.string('the ending IP address for the Pod', must.beIPv4),
  },
  async handle(p, { db }) {
    await zoneById(db, p.zoneid);
    try {
      const [pod] = await db
        .insert(pods)
        .values({
          name: p.name,
          zoneId: p.zoneid,
          gateway: p.gateway,
          netmask: p.netmask,
          startIp: p.startip,
          endIp: p.endip,
        })
        .returning();
      return { pod: podView(pod!, await loadNames(db)) };
    } catch (err) {
      if (isUniqueViolation(err)) throw paramError(`A pod named ${p.name} already exists; choose another name.`);
      throw err;
    }
  },
});
