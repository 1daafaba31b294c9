// Volume and snapshot work on hypervisor hosts over SSH: blank disks, snapshots on primary, and sending a file off
// the host (to a path it mounts, or part by part to presigned part-upload URLs, resumable). The commands come from
// the host's hypervisor adapter; paths are built from ids, never from names a user typed.
import { posix } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { FailureType } from '../core/failures';
import type { Db } from '../db/client';
import { poolAndHost } from '../db/pool-host';
import { snapshots, volumes } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import type { HypervisorAdapter } from '../plugins/hypervisors/contract';
import { hypervisorAdapter } from '../plugins/hypervisors/registry';
import type { MultipartState } from '../plugins/image-stores/contract';
import type { PlanStep, RowRef } from '../core/plan';
import { inHostSession } from './host-session';
import type { HostSession, SshExecutor } from '../ssh/executor';
import { curlRetryTransient, curlStallLimit, phaseLimitMs, runOrFail, tempPathOf } from './host-commands';
import { endpointOf, loadHost, type HostRow } from './host-endpoint';
import type { WithStore } from './store-access';
import { completeTransfer, transferParts, type PartSource } from './transfer-engine';

export interface VolumeDiskDeps {
  db: Db;
  ssh: SshExecutor;
  secrets: SecretBox;
  withStore: WithStore;
  partSizeBytes: number;
}

type HostPushStep = Extract<PlanStep, { step: 'host-push' }> & { progressRow?: RowRef };
type CopyToPathStep = Extract<PlanStep, { step: 'host-copy-to-path' }>;

const MiB = 1024 * 1024;
/** How long a part-upload URL handed to a host stays valid: one part's upload, with room to spare. */
const PART_URL_SECONDS = 3600;

const notFound = (what: string) => ApplicationFailure.nonRetryable(`${what} no longer exists`, FailureType.NotFound);

/** A pool, the host of its cluster that does the work (first Up by name) and that host's hypervisor adapter. */
interface PoolWork {
  poolPath: string;
  host: HostRow;
  adapter: HypervisorAdapter;
}

export function createVolumeDiskActivities({ db, ssh, secrets, withStore, partSizeBytes }: VolumeDiskDeps) {
  async function poolWork(poolId: string): Promise<PoolWork> {
    const row = await poolAndHost(db, poolId);
    if (!row) throw notFound(`primary storage pool ${poolId}`);
    if (!row.host) {
      throw ApplicationFailure.nonRetryable(
        `no host of cluster ${row.cluster.name} is Up to work on pool ${row.pool.name}`,
        FailureType.NoHostUp,
      );
    }
    return { poolPath: row.pool.path, host: row.host, adapter: hypervisorAdapter(row.cluster.hypervisor) };
  }

  async function volumeWork(volumeId: string) {
    const [volume] = await db.select().from(volumes).where(eq(volumes.id, volumeId));
    if (!volume?.poolId || !volume.path) throw notFound(`volume ${volumeId} on primary storage`);
    const work = await poolWork(volume.poolId);
    return { volume, ...work, volumePath: posix.join(work.poolPath, volume.path) };
  }

  async function snapshotWork(snapshotId: string) {
    const [snapshot] = await db.select().from(snapshots).where(eq(snapshots.id, snapshotId));
    if (!snapshot) throw notFound(`snapshot ${snapshotId}`);
    return { snapshot, ...(await volumeWork(snapshot.volumeId)) };
  }

  const onHost = <T>(host: HostRow, work: (run: Run, session: HostSession) => Promise<T>) =>
    inHostSession(ssh, endpointOf(host, secrets), (session) =>
      work((argv, timeoutMs = phaseLimitMs(undefined)) => runOrFail(session, host.name, argv, timeoutMs), session),
    );

  /** Deletes a file (and its temporary) from a pool through a host of its cluster; gone already is fine. */
  async function removeFromPool(poolId: string, fileName: string): Promise<void> {
    const { host, poolPath } = await poolWork(poolId);
    const path = posix.join(poolPath, posix.basename(fileName));
    await onHost(host, (run) => run(['rm', '-f', '--', path, tempPathOf(path)]));
  }

  /** The disk's guest-visible size and the bytes it takes on its pool (qemu-img info's actual-size). */
  const diskSizes = async (run: Run, adapter: HypervisorAdapter, path: string) => {
    const info = JSON.parse((await run(adapter.disks.info(path))).stdout) as {
      'virtual-size': number;
      'actual-size'?: number;
    };
    return { size: info['virtual-size'], physicalSize: info['actual-size'] };
  };

  const fileFacts = async (run: Run, path: string) => {
    const size = Number((await run(['stat', '-c', '%s', '--', path])).stdout.trim());
    const sha256 = (await run(['sha256sum', '--', path])).stdout.split(/\s/)[0]!;
    return { size, sha256 };
  };

  return {
    /** A blank disk of the volume's size on its pool (written under a temporary name, renamed when whole). */
    async createBlankDisk({ volumeId }: { volumeId: string }): Promise<{ size: number; physicalSize?: number }> {
      const { volume, host, adapter, volumePath } = await volumeWork(volumeId);
      return await onHost(host, async (run, session) => {
        if ((await session.run(['test', '-f', volumePath])).exitCode !== 0) {
          const temp = tempPathOf(volumePath);
          await run(adapter.disks.createBlank(temp, volume.size ?? 0));
          await run(['mv', '-f', '--', temp, volumePath]);
        }
        return await diskSizes(run, adapter, volumePath);
      });
    },

    /** Takes the snapshot on primary through the volume's host; a retry first drops a half-made one. */
    async snapshotOnPrimary({ snapshotId }: { snapshotId: string }): Promise<{ handle: string; size: number }> {
      const { host, adapter, volume, volumePath } = await snapshotWork(snapshotId);
      const { handle, commands } = adapter.disks.snapshot(volumePath, snapshotId);
      return await onHost(host, async (run, session) => {
        for (const argv of adapter.disks.removeSnapshot(volumePath, handle)) await session.run(argv);
        for (const argv of commands) await run(argv, phaseLimitMs(volume.size));
        return { handle, size: (await diskSizes(run, adapter, volumePath)).size };
      });
    },

    /** Drops the snapshot on primary (after the backup, unless kept; or as compensation). */
    async removeSnapshotOnPrimary({ snapshotId, handle }: { snapshotId: string; handle: string }): Promise<void> {
      const { host, adapter, volumePath } = await snapshotWork(snapshotId);
      await onHost(host, async (_run, session) => {
        for (const argv of adapter.disks.removeSnapshot(volumePath, handle)) await session.run(argv);
      });
    },

    /** The snapshot as one image file on the pool, ready to be sent: its name there and whether it is temporary. */
    async exportSnapshotFile({
      snapshotId,
      handle,
    }: {
      snapshotId: string;
      handle: string;
    }): Promise<{ poolId: string; hostId: string; fileName: string; temporary: boolean; physicalSize: number }> {
      const { host, adapter, volume, volumePath } = await snapshotWork(snapshotId);
      const file = adapter.disks.exportSnapshot(volumePath, handle, snapshotId);
      return await onHost(host, async (run) => {
        if (file.commands.length > 0) await run(['rm', '-f', '--', file.path]);
        for (const argv of file.commands) await run(argv, phaseLimitMs(volume.size));
        const physicalSize = Number((await run(['stat', '-c', '%s', '--', file.path])).stdout.trim());
        const fileName = posix.basename(file.path);
        return { poolId: volume.poolId!, hostId: host.id, fileName, temporary: file.temporary, physicalSize };
      });
    },

    /** Removes a snapshot's exported file (made only to be sent) from its volume's pool. */
    async removeSnapshotExport({ snapshotId, fileName }: { snapshotId: string; fileName: string }): Promise<void> {
      const { host, poolPath } = await snapshotWork(snapshotId);
      await onHost(host, (run) => run(['rm', '-f', '--', posix.join(poolPath, posix.basename(fileName))]));
    },

    /** The host copies a file to a path it mounts (NFS store or cache store): whole under its name, or not at all. */
    async hostCopyToPath(step: CopyToPathStep): Promise<{ size: number; sha256: string }> {
      const host = await loadHost(db, step.hostId);
      const temp = tempPathOf(step.toPath);
      return await onHost(host, async (run, session) => {
        try {
          await run(['mkdir', '-p', '--', posix.dirname(step.toPath)]);
          const size = Number((await run(['stat', '-c', '%s', '--', step.fromPath])).stdout.trim());
          await run(['cp', '-f', '--', step.fromPath, temp], phaseLimitMs(size));
          await run(['mv', '-f', '--', temp, step.toPath]);
        } finally {
          await session.run(['rm', '-f', '--', temp]);
        }
        return await fileFacts(run, step.toPath);
      });
    },

    /**
     * The host uploads a file part by part to presigned part-upload URLs (it never sees the store's credentials).
     * Each confirmed part is saved on the copy's row, so a retry after a crash resumes with the next part.
     */
    async hostPush(
      step: HostPushStep,
    ): Promise<{ size: number; sha256: string; resumedParts: number; partsSent: number }> {
      const host = await loadHost(db, step.hostId);
      const partMiB = Math.max(1, Math.round(partSizeBytes / MiB));
      const partBytes = partMiB * MiB;
      return await withStore(step.storeId, async (driver) => {
        const signer = driver.multipart.partUploadUrl?.bind(driver.multipart);
        if (!signer) throw new Error('this store cannot sign part-upload URLs; the plan should not have chosen it');
        const sign = signer;
        const partFile = `${step.path}.ferry-part`;
        return await onHost(host, async (run, session) => {
          const size = Number((await run(['stat', '-c', '%s', '--', step.path])).stdout.trim());
          const count = Math.max(1, Math.ceil(size / partBytes));
          // The host cuts each part out of the file and PUTs it to a URL signed for that part alone.
          function* parts(): Generator<PartSource> {
            for (let n = 1; n <= count; n++) {
              const length = Math.min(partBytes, size - (n - 1) * partBytes);
              yield {
                partNumber: n,
                length,
                send: async (state: MultipartState) => {
                  const dd = ['dd', `if=${step.path}`, `of=${partFile}`, `bs=${MiB}`, `skip=${(n - 1) * partMiB}`];
                  await run([...dd, `count=${partMiB}`, 'status=none']);
                  const url = await sign(state, n, PART_URL_SECONDS);
                  // No "Expect: 100-continue": a server that ignores it costs curl a one-second wait per part.
                  const put = ['curl', '-sSf', ...curlRetryTransient, ...curlStallLimit, '-H', 'Expect:'];
                  put.push('-X', 'PUT', '-T', partFile);
                  const sent = await run([...put, '-D', '-', '-o', '/dev/null', url], phaseLimitMs(length));
                  // Every attempt's headers are on stdout (curl's retries): the ETag is the last response's own.
                  const last = sent.stdout.split(/\r?\n\r?\n(?=HTTP\/)/).pop() ?? '';
                  const etag = /^etag:\s*"?([^"\r\n]+)"?/im.exec(last)?.[1];
                  if (!etag) throw new Error(`the store gave no ETag for part ${n}`);
                  return etag;
                },
              };
            }
          }
          try {
            // One part at a time: they share this host's one session and its part file.
            const pushed = await transferParts({
              db,
              driver,
              key: step.key,
              progressRow: step.progressRow,
              totalBytes: size,
              concurrency: 1,
              parts: parts(),
            });
            const facts = await fileFacts(run, step.path);
            await completeTransfer(driver, { ...pushed, bytes: facts.size });
            return { ...facts, resumedParts: pushed.resumedParts, partsSent: pushed.partsSent };
          } finally {
            await session.run(['rm', '-f', '--', partFile]);
          }
        });
      });
    },

    /** Removes a file from a pool through a host of its cluster (the old copy of a migrated volume). */
    removePoolFileOf: ({ poolId, fileName }: { poolId: string; fileName: string }): Promise<void> =>
      removeFromPool(poolId, fileName),
  };
}

type Run = (argv: readonly string[], timeoutMs?: number) => ReturnType<typeof runOrFail>;
