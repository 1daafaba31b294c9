// Host activities: probe a hypervisor host over SSH, then record what was found. Each is safe to run twice.
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import { FailureType } from '../core/failures';
import { predecessors, type HostState } from '../core/state-machine';
import type { Db } from '../db/client';
import { hosts, storagePoolHosts, storagePools } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import { hypervisorAdapter } from '../plugins/hypervisors/registry';
import {
  CommandTimeoutError,
  HostAuthenticationError,
  HostKeyMismatchError,
  HostUnreachableError,
} from '../ssh/errors';
import { inHostSession } from './host-session';
import type { SshExecutor } from '../ssh/executor';
import { runOrFail } from './host-commands';
import { endpointOf, loadHost } from './host-endpoint';

export interface PoolProbe {
  poolId: string;
  capacityBytes: number;
  availableBytes: number;
}

export interface HostProbe {
  hypervisorVersion: string;
  qemuImgVersion: string;
  pools: PoolProbe[];
}

interface HostActivityDeps {
  db: Db;
  ssh: SshExecutor;
  secrets: SecretBox;
}

/** The host states the transition table lets a host leave for `to`. */
const hostCameFrom = (to: HostState) => predecessors('host', to) as HostState[];

export function createHostActivities({ db, ssh, secrets }: HostActivityDeps) {
  return {
    /** Connects with the pinned host key and checks the hypervisor's tools and the pools the host must see. */
    async probeHost({ hostId }: { hostId: string }): Promise<HostProbe> {
      const host = await loadHost(db, hostId);
      const adapter = hypervisorAdapter(host.hypervisor);
      const pools = await db
        .select({ id: storagePools.id, name: storagePools.name, path: storagePools.path })
        .from(storagePools)
        .where(
          or(
            eq(storagePools.clusterId, host.clusterId),
            and(eq(storagePools.zoneId, host.zoneId), isNull(storagePools.clusterId)),
          ),
        );
      try {
        return await inHostSession(ssh, endpointOf(host, secrets), async (session) => {
          let qemuImgVersion = '';
          for (const tool of adapter.requiredTools) {
            const found = await session.run(['sh', '-c', 'command -v "$1"', 'sh', tool.command]);
            if (found.exitCode !== 0) {
              throw ApplicationFailure.nonRetryable(
                `host ${host.name} has no ${tool.command} on its PATH; ${adapter.hypervisor} hosts need it ` +
                  `(install ${tool.providedBy}), then add the host again`,
                FailureType.HostToolMissing,
              );
            }
            const version = firstLine(
              (await runOrFail(session, host.name, [tool.command, ...tool.versionArgs])).stdout,
            );
            if (tool.command === 'qemu-img') qemuImgVersion = version;
          }
          const hypervisorVersion = firstLine((await runOrFail(session, host.name, ['uname', '-r'])).stdout);
          const poolProbes: PoolProbe[] = [];
          for (const pool of pools) {
            const df = await session.run(['df', '-B1', '--output=size,avail', '--', pool.path]);
            if (df.exitCode !== 0) {
              throw ApplicationFailure.nonRetryable(
                `host ${host.name} cannot see primary storage pool ${pool.name} at ${pool.path}: ${df.stderr.trim()}`,
                FailureType.HostPoolPathMissing,
              );
            }
            poolProbes.push({ poolId: pool.id, ...parseDf(df.stdout) });
          }
          return { hypervisorVersion, qemuImgVersion, pools: poolProbes };
        });
      } catch (err) {
        throw asActivityFailure(err, host.name);
      }
    },

    /** Records the probe and marks the host Up, in one transaction. */
    async markHostUp({ hostId, probe }: { hostId: string; probe: HostProbe }): Promise<void> {
      await db.transaction(async (tx) => {
        const updated = await tx
          .update(hosts)
          .set({
            state: 'Up',
            lastError: null,
            hypervisorVersion: probe.hypervisorVersion,
            qemuImgVersion: probe.qemuImgVersion,
            lastProbed: new Date(),
          })
          .where(and(eq(hosts.id, hostId), inArray(hosts.state, hostCameFrom('Up'))))
          .returning({ id: hosts.id });
        if (updated.length === 0) {
          const [now] = await tx.select({ state: hosts.state }).from(hosts).where(eq(hosts.id, hostId));
          if (!now) {
            throw ApplicationFailure.nonRetryable(
              `host ${hostId} was deleted while it was probed`,
              FailureType.NotFound,
            );
          }
          if (now.state !== 'Up') {
            throw ApplicationFailure.nonRetryable(
              `host ${hostId} is ${now.state}: it cannot become Up`,
              FailureType.IllegalTransition,
            );
          }
        }
        for (const pool of probe.pools) {
          const seen = { capacityBytes: pool.capacityBytes, availableBytes: pool.availableBytes, updated: new Date() };
          await tx
            .insert(storagePoolHosts)
            .values({ poolId: pool.poolId, hostId, ...seen })
            .onConflictDoUpdate({ target: [storagePoolHosts.poolId, storagePoolHosts.hostId], set: seen });
          await tx
            .update(storagePools)
            .set({ capacityBytes: pool.capacityBytes, availableBytes: pool.availableBytes })
            .where(eq(storagePools.id, pool.poolId));
        }
      });
    },

    /** Compensation of addHost: the host stays, truthfully not Up, with the reason. */
    async markHostError({ hostId, reason }: { hostId: string; reason: string }): Promise<void> {
      await db
        .update(hosts)
        .set({ state: 'Error', lastError: reason })
        .where(and(eq(hosts.id, hostId), inArray(hosts.state, hostCameFrom('Error'))));
    },
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

function parseDf(stdout: string): { capacityBytes: number; availableBytes: number } {
  const [size, avail] = (stdout.trim().split('\n')[1] ?? '').trim().split(/\s+/).map(Number);
  if (size === undefined || avail === undefined || !Number.isFinite(size) || !Number.isFinite(avail)) {
    throw new Error(`unexpected df output: ${stdout}`);
  }
  return { capacityBytes: size, availableBytes: avail };
}

/** SSH errors become typed failures: unreachable hosts are retried by the workflow's policy, the rest are final. */
function asActivityFailure(err: unknown, hostName: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof HostKeyMismatchError) {
    return ApplicationFailure.nonRetryable(
      `host ${hostName}: ${err.message}. Check the fingerprint with ssh-keyscan on a trusted path.`,
      FailureType.HostKeyMismatch,
    );
  }
  if (err instanceof HostAuthenticationError) {
    return ApplicationFailure.nonRetryable(`host ${hostName}: ${err.message}`, FailureType.HostAuthenticationFailed);
  }
  if (err instanceof HostUnreachableError || err instanceof CommandTimeoutError) {
    return ApplicationFailure.retryable(`host ${hostName}: ${err.message}`, FailureType.HostUnreachable);
  }
  return err;
}
