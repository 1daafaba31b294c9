// Builds Ferry's worker: the workflow bundle plus activities over real clients (PostgreSQL, SSH).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createDownloadLinks } from '../core/download-links';
import { openDb, type DbHandle } from '../db/client';
import { createSecretBox } from '../db/secret-box';
import { createSshExecutor } from '../ssh/executor';
import type { FerryConfig } from '../temporal.config';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface FerryWorker {
  worker: Worker;
  /** Runs until shutdown() and then releases every client. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createFerryWorker(config: FerryConfig): Promise<FerryWorker> {
  const dbHandle: DbHandle = openDb(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const ssh = createSshExecutor({
    ferryPrivateKey: await readFile(config.ssh.privateKeyFile),
    connectTimeoutMs: config.ssh.connectTimeoutMs,
  });
  const links = createDownloadLinks(config.masterKey, config.api.publicUrl);
  const activities = createActivities({
    db: dbHandle.db,
    secrets: createSecretBox(config.masterKey),
    ssh,
    storeServices: { ssh, signedDownloadUrl: links.url },
    partSizeBytes: config.transferPartBytes,
    transferConcurrency: config.transferConcurrency,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath,
    activities,
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await connection.close();
        await dbHandle.close();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}
