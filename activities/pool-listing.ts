// The doctor's view of primary pools: every file of a pool's directory and the hypervisor snapshots inside its
// volumes' disks, listed over SSH through the host of the pool's cluster that does its disk work (db/pool-host.ts);
// and the two repairs, removing a file and deleting a snapshot inside a disk. Paths are built from the pool's
// directory and names the listing returned (never with a slash), so nothing outside the pool is touched.
import { posix } from 'node:path';
import type { Db } from '../db/client';
import { poolAndHost } from '../db/pool-host';
import type { SecretBox } from '../db/secret-box';
import { hypervisorAdapter } from '../plugins/hypervisors/registry';
import type { HypervisorAdapter } from '../plugins/hypervisors/contract';
import type { ListedHostSnapshot, ListedPoolFile, PoolListing } from '../planning/reconcile';
import { inHostSession } from './host-session';
import type { HostSession, SshExecutor } from '../ssh/executor';
import { endpointOf, type HostRow } from './host-endpoint';

export interface PoolAccess {
  db: Db;
  ssh: SshExecutor;
  secrets: SecretBox;
}

const LIST_TIMEOUT_MS = 120_000;

async function onPool<T>(
  { db, ssh, secrets }: PoolAccess,
  poolId: string,
  work: (session: HostSession, pool: { path: string; host: HostRow; adapter: HypervisorAdapter }) => Promise<T>,
): Promise<T> {
  const row = await poolAndHost(db, poolId);
  if (!row) throw new Error(`primary storage pool ${poolId} is not in a cluster (no host lists it)`);
  const { host } = row;
  if (!host) throw new Error(`no host of cluster ${row.cluster.name} is Up to list pool ${row.pool.name}`);
  const adapter = hypervisorAdapter(row.cluster.hypervisor);
  return await inHostSession(ssh, endpointOf(host, secrets), (session) =>
    work(session, { path: row.pool.path, host, adapter }),
  );
}

const plainName = (name: string) => name !== '' && !name.includes('/') && name !== '.' && name !== '..';

/**
 * The pool's files, and the snapshots inside `disks` (file names of its volumes). A disk qemu-img cannot read now
 * (being written, another format) shows no snapshots: they are judged on a later run.
 */
export async function listPool(access: PoolAccess, poolId: string, disks: readonly string[]): Promise<PoolListing> {
  return await onPool(access, poolId, async (session, pool) => {
    const found = await session.run(
      ['find', pool.path, '-maxdepth', '1', '-type', 'f', '-printf', '%f\\t%s\\t%T@\\n'],
      {
        timeoutMs: LIST_TIMEOUT_MS,
      },
    );
    if (found.exitCode !== 0) throw new Error(`find failed on ${pool.host.name}: ${found.stderr.trim().slice(0, 300)}`);
    const files: ListedPoolFile[] = [];
    for (const line of found.stdout.split('\n')) {
      const [name, size, mtime] = line.split('\t');
      if (name && plainName(name)) files.push({ name, size: Number(size), modified: new Date(Number(mtime) * 1000) });
    }
    const snapshots: ListedHostSnapshot[] = [];
    const present = new Set(files.map((f) => f.name));
    for (const file of disks) {
      if (!present.has(file)) continue;
      // -U: read without taking the disk's lock, so a disk in use is listed, not blocked on.
      const [tool, sub, ...rest] = pool.adapter.disks.info(posix.join(pool.path, file));
      const info = await session.run([tool!, sub!, '-U', ...rest], { timeoutMs: LIST_TIMEOUT_MS });
      if (info.exitCode !== 0) continue;
      const parsed = JSON.parse(info.stdout) as { snapshots?: { name: string; 'date-sec': number }[] };
      for (const s of parsed.snapshots ?? []) {
        snapshots.push({ file, name: s.name, created: new Date(s['date-sec'] * 1000) });
      }
    }
    return { poolId, listed: true, files, snapshots };
  });
}

/** Removes one file of the pool; gone already is fine. */
export async function removePoolFile(
  access: PoolAccess,
  poolId: string,
  file: string,
  stillWanted: () => Promise<boolean> = () => Promise.resolve(false),
): Promise<boolean> {
  if (!plainName(file)) throw new Error(`not a file name of the pool: ${JSON.stringify(file)}`);
  return await onPool(access, poolId, async (session, pool) => {
    if (await stillWanted()) return false;
    const done = await session.run(['rm', '-f', '--', posix.join(pool.path, file)]);
    if (done.exitCode !== 0) throw new Error(`rm failed on ${pool.host.name}: ${done.stderr.trim().slice(0, 300)}`);
    return true;
  });
}

/** Deletes one hypervisor snapshot inside a disk of the pool, as the adapter removes a snapshot on primary. */
export async function removeHostSnapshot(
  access: PoolAccess,
  poolId: string,
  file: string,
  name: string,
  stillWanted: () => Promise<boolean> = () => Promise.resolve(false),
): Promise<boolean> {
  if (!plainName(file)) throw new Error(`not a file name of the pool: ${JSON.stringify(file)}`);
  return await onPool(access, poolId, async (session, pool) => {
    if (await stillWanted()) return false;
    for (const argv of pool.adapter.disks.removeSnapshot(posix.join(pool.path, file), name)) {
      const done = await session.run(argv);
      if (done.exitCode !== 0) {
        throw new Error(`${argv[0]} failed on ${pool.host.name}: ${done.stderr.trim().slice(0, 300)}`);
      }
    }
    return true;
  });
}
