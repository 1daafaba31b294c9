// Builds the API service over real clients; used by the process entry point and by the end-to-end tests.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { createDownloadLinks } from '../core/download-links';
import { createReadiness } from '../core/readiness';
import { openDb } from '../db/client';
import { sql } from 'drizzle-orm';
import { createSecretBox } from '../db/secret-box';
import { createSshExecutor } from '../ssh/executor';
import type { FerryConfig } from '../temporal.config';
import { ensureAdmin } from './admin-keys';
import { createApiServer } from './http-server';

export interface FerryApi {
  server: Server;
  close(): Promise<void>;
}

export async function startFerryApi(config: FerryConfig, log: (line: string) => void): Promise<FerryApi> {
  const dbHandle = openDb(config.databaseUrl);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const secrets = createSecretBox(config.masterKey);
  await ensureAdmin(dbHandle.db, secrets, config);
  const links = createDownloadLinks(config.masterKey, config.api.publicUrl);
  const ssh = createSshExecutor({
    ferryPrivateKey: await readFile(config.ssh.privateKeyFile),
    connectTimeoutMs: config.ssh.connectTimeoutMs,
    maxSessionsPerHost: config.ssh.maxSessionsPerHost,
  });
  const storeServices = { ssh, signedDownloadUrl: links.url };
  const readiness = createReadiness({
    database: async () => void (await dbHandle.db.execute(sql`select 1`)),
    temporal: async () => void (await connection.healthService.check({})),
  });
  const server = createApiServer({ db: dbHandle.db, temporal, config, secrets, storeServices, links, log, readiness });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.api.port, config.api.host, resolve);
  });
  return {
    server,
    async close() {
      // Draining: /readyz says so at once (a load balancer stops sending), new connections are refused, requests
      // in flight finish, and idle keep-alive connections are let go instead of holding the close open.
      readiness.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A request that outlives the grace (a client that never reads its answer) is cut off, not waited for.
      const cutOff = setTimeout(() => server.closeAllConnections(), config.shutdownGraceSeconds * 1000);
      await closed;
      clearTimeout(cutOff);
      await connection.close();
      await dbHandle.close();
    },
  };
}
