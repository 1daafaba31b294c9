// Disk work on hypervisor hosts over SSH: fetch an object (expiring URL or mounted path), convert it to the pool's
// format, verify it with qemu-img info. Every command is an argument vector; the result appears under its final name
// only when whole (written to a temporary name, then renamed).
import { posix } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../core/failures';
import { qemuImgFormat, type ImageFormat } from '../core/image-format';
import type { Db } from '../db/client';
import type { SecretBox } from '../db/secret-box';
import { checkImageOnHost, type RunOnHost } from '../plugins/hypervisors/image-check';
import type { PlanStep } from '../plugins/motion/contract';
import { inHostSession } from './host-session';
import type { CommandResult, HostSession, SshExecutor } from '../ssh/executor';
import { curlRetryTransient, curlStallLimit, phaseLimitMs, runOrFail, tempPathOf } from './host-commands';
import { endpointOf, loadHost } from './host-endpoint';
import type { WithStore } from './store-access';

export interface HostDiskDeps {
  db: Db;
  ssh: SshExecutor;
  secrets: SecretBox;
  withStore: WithStore;
}

/** `expectSha256`: the SHA-256 the source's bytes must have (what the previous step sent), checked when verifying. */
type FetchConvertStep = Extract<PlanStep, { step: 'host-fetch-convert' }> & { expectSha256?: string };

const DAY_MS = 24 * 3_600_000;

function qemuName(format: string): string {
  const name = qemuImgFormat(format as ImageFormat);
  if (!name)
    throw ApplicationFailure.nonRetryable(`${format} images cannot be converted on a host`, FailureType.FormatMismatch);
  return name;
}

/**
 * The copy's guest-visible content must equal the source's (qemu-img compare, across formats), and the source bytes
 * must be the ones sent (SHA-256), before the copy takes its final name.
 */
async function verifyCopy(
  run: (argv: string[], timeoutMs?: number) => Promise<CommandResult>,
  session: HostSession,
  hostName: string,
  source: string,
  sourceFormat: string,
  copy: string,
  copyFormat: string,
  step: FetchConvertStep,
): Promise<void> {
  if (step.expectSha256) {
    const got = (await run(['sha256sum', '--', source])).stdout.split(/\s/)[0];
    if (got !== step.expectSha256) {
      throw ApplicationFailure.nonRetryable(
        `the bytes ${hostName} received (SHA-256 ${got}) are not the ones sent (${step.expectSha256})`,
        FailureType.VerificationFailed,
      );
    }
  }
  const compared = await session.run(['qemu-img', 'compare', '-f', sourceFormat, '-F', copyFormat, source, copy], {
    timeoutMs: phaseLimitMs(undefined),
  });
  if (compared.exitCode !== 0) {
    const why = (compared.stdout + compared.stderr).trim().slice(0, 300);
    throw ApplicationFailure.nonRetryable(
      `the copy on ${hostName} does not match its source (qemu-img compare exit ${compared.exitCode}: ${why})`,
      FailureType.VerificationFailed,
    );
  }
}

/** Runs the host-side image check on `path`; any refusal fails the step for good, naming the rule. */
async function refuseUnsafe(hostName: string, format: string, path: string, run: RunOnHost): Promise<void> {
  const check = await checkImageOnHost(run, format as ImageFormat, path);
  if (check.refusals.length === 0) return;
  const why = check.refusals.map((r) => `${r.message} [${r.rule}]`).join(' ');
  throw ApplicationFailure.nonRetryable(`the image on ${hostName} is refused: ${why}`, FailureType.UnsafeImage);
}

export function createHostDiskActivities({ db, ssh, secrets, withStore }: HostDiskDeps) {
  return {
    async hostFetchConvert(step: FetchConvertStep): Promise<{ virtualSize: number; physicalSize: number }> {
      const host = await loadHost(db, step.hostId);
      const target = posix.join(step.poolPath, step.fileName);
      const targetFormat = qemuName(step.targetFormat);
      const sourceFormat = qemuName(step.sourceFormat);
      const { source: from } = step;
      // Hosts get an expiring URL, never the store's credentials.
      const url = 'storeId' in from ? await withStore(from.storeId, (d) => d.expiringUrl(from.key, 3600)) : undefined;
      return await inHostSession(ssh, endpointOf(host, secrets), async (session) => {
        const run = (argv: string[], timeoutMs = phaseLimitMs(undefined)) =>
          runOrFail(session, host.name, argv, timeoutMs);
        const info = async (path: string) =>
          JSON.parse((await run(['qemu-img', 'info', '--output=json', '-f', targetFormat, path])).stdout) as {
            format: string;
            'virtual-size': number;
            'actual-size': number;
          };
        // Done already (a retry after the last step succeeded)?
        const exists = await session.run(['test', '-f', target]);
        if (exists.exitCode === 0) {
          const done = await info(target);
          return { virtualSize: done['virtual-size'], physicalSize: done['actual-size'] };
        }
        const temp = tempPathOf(target);
        const download = posix.join(step.poolPath, `.${step.fileName}.ferry-download`);
        try {
          let source: string;
          if (url) {
            await run(['curl', '-sSf', ...curlRetryTransient, ...curlStallLimit, '-o', download, '--', url], DAY_MS);
            source = download;
          } else {
            source = 'path' in from ? from.path : download;
          }
          // Before qemu-img touches it: the image must be what it claims and point at no other file.
          await refuseUnsafe(host.name, step.sourceFormat, source, (argv) => run([...argv]).then((r) => r.stdout));
          const options = targetFormat === 'vpc' ? ['-o', 'force_size=on'] : [];
          const size = Number((await run(['stat', '-L', '-c', '%s', '--', source])).stdout.trim());
          await run(
            ['qemu-img', 'convert', '-f', sourceFormat, '-O', targetFormat, ...options, source, temp],
            phaseLimitMs(size),
          );
          if (step.verify) await verifyCopy(run, session, host.name, source, sourceFormat, temp, targetFormat, step);
          await run(['mv', '-f', '--', temp, target]);
        } finally {
          await session.run(['rm', '-f', '--', temp, download]);
        }
        const done = await info(target);
        return { virtualSize: done['virtual-size'], physicalSize: done['actual-size'] };
      });
    },

    /** Compensation of hostFetchConvert and hostCopyToPath, and deletion of a prepared template. */
    async removePoolFile({ hostId, path }: { hostId: string; path: string }): Promise<void> {
      const host = await loadHost(db, hostId);
      await inHostSession(ssh, endpointOf(host, secrets), async (session) => {
        await session.run(['rm', '-f', '--', path, tempPathOf(path)]);
      });
    },
  };
}
