// Ferry's configuration: the environment, read once, validated, typed. A bad value stops start-up with a clear message.
import { z } from 'zod';
import { endpointEntry, endpointOfUrl, parseSiteList } from './core/url-policy';

const port = z.coerce.number().int().min(0).max(65535); // 0: any free port (tests)

const schema = z.object({
  FERRY_API_PORT: port.default(8080),
  FERRY_API_HOST: z.string().default('127.0.0.1'),
  /** Where clients reach the API (download URLs point here); default http://127.0.0.1:<FERRY_API_PORT>. */
  FERRY_PUBLIC_URL: z.url().optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  FERRY_TASK_QUEUE: z.string().min(1).default('ferry'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  FERRY_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 random bytes, base64-encoded'),
  FERRY_ADMIN_API_KEY: z.string().min(16).optional(),
  FERRY_ADMIN_SECRET_KEY: z.string().min(16).optional(),
  FERRY_ADMIN_FILE: z.string().default('.ferry/admin.json'),
  FERRY_SSH_PRIVATE_KEY_FILE: z.string().default('.ferry/keys/ferry_ed25519'),
  FERRY_SSH_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  FERRY_SSH_MAX_SESSIONS_PER_HOST: z.coerce.number().int().min(1).max(64).default(4),
  FERRY_HOST_CONNECT_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(4),
  /** Part size of transfers into stores, in MiB: the unit a resumed transfer may re-send. */
  FERRY_TRANSFER_PART_MIB: z.coerce.number().int().min(5).max(512).default(16),
  /** Parts a transfer uploads at once; a worker crash may re-send that many. */
  FERRY_TRANSFER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(1),
  /** How soon a transfer whose worker died is noticed and retried (its heartbeat deadline), in seconds. */
  FERRY_TRANSFER_HEARTBEAT_S: z.coerce.number().int().min(2).max(600).default(30),
  /** How long a stopping API lets its requests in flight finish before it closes their connections. */
  FERRY_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** Where a worker answers /healthz and /readyz (0: a free port, written to its log); unset: no probe port. */
  FERRY_WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  FERRY_WORKER_HEALTH_HOST: z.string().default('127.0.0.1'),
  /**
   * More endpoints of this installation's own services that Ferry must never fetch for a user, whatever the
   * allow-list says (the Temporal UI, an object store's other ports...): comma-separated host[:port] or CIDR[:port].
   * Ferry's API, Temporal's frontend and PostgreSQL are always included, and every store and host in the catalogue.
   */
  FERRY_SERVICE_ENDPOINTS: z
    .string()
    .default('')
    .refine((v) => {
      try {
        parseSiteList(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be comma-separated host[:port] or CIDR[:port] entries'),
});

export type FerryConfig = Readonly<{
  api: { host: string; port: number; publicUrl: string };
  temporal: { address: string; namespace: string; taskQueue: string };
  databaseUrl: string;
  masterKey: Buffer;
  admin: { apiKey?: string; secretKey?: string; file: string };
  ssh: { privateKeyFile: string; connectTimeoutMs: number; connectAttempts: number; maxSessionsPerHost: number };
  transferPartBytes: number;
  transferConcurrency: number;
  transferHeartbeatSeconds: number;
  shutdownGraceSeconds: number;
  worker: { healthHost: string; healthPort?: number };
  /** Ferry's own endpoints (its API, Temporal's frontend, PostgreSQL), as host:port site-list entries. */
  ownEndpoints: readonly string[];
  /** What no user download may reach: ownEndpoints and FERRY_SERVICE_ENDPOINTS (the catalogue's are added live). */
  serviceEndpoints: readonly string[];
}>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): FerryConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Ferry configuration is invalid:\n${problems}`);
  }
  const e = parsed.data;
  const publicUrl = (e.FERRY_PUBLIC_URL ?? `http://127.0.0.1:${e.FERRY_API_PORT}`).replace(/\/$/, '');
  const database = (() => {
    try {
      return new URL(e.DATABASE_URL);
    } catch {
      return undefined; // a URL the driver reads its own way (a socket path, say): not an endpoint to deny
    }
  })();
  const ownEndpoints = [
    e.FERRY_API_PORT ? endpointEntry(e.FERRY_API_HOST, e.FERRY_API_PORT) : undefined,
    endpointOfUrl(publicUrl),
    e.TEMPORAL_ADDRESS,
    database?.hostname ? endpointEntry(database.hostname, database.port || 5432) : undefined,
  ].filter((x): x is string => x !== undefined);
  if ((e.FERRY_ADMIN_API_KEY === undefined) !== (e.FERRY_ADMIN_SECRET_KEY === undefined)) {
    throw new Error(
      'Ferry configuration is invalid: set both FERRY_ADMIN_API_KEY and FERRY_ADMIN_SECRET_KEY, or neither',
    );
  }
  return {
    api: {
      host: e.FERRY_API_HOST,
      port: e.FERRY_API_PORT,
      publicUrl,
    },
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.FERRY_TASK_QUEUE },
    databaseUrl: e.DATABASE_URL,
    masterKey: Buffer.from(e.FERRY_MASTER_KEY, 'base64'),
    admin: { apiKey: e.FERRY_ADMIN_API_KEY, secretKey: e.FERRY_ADMIN_SECRET_KEY, file: e.FERRY_ADMIN_FILE },
    transferPartBytes: e.FERRY_TRANSFER_PART_MIB * 1024 * 1024,
    transferConcurrency: e.FERRY_TRANSFER_CONCURRENCY,
    transferHeartbeatSeconds: e.FERRY_TRANSFER_HEARTBEAT_S,
    shutdownGraceSeconds: e.FERRY_SHUTDOWN_GRACE_SECONDS,
    worker: { healthHost: e.FERRY_WORKER_HEALTH_HOST, healthPort: e.FERRY_WORKER_HEALTH_PORT },
    ownEndpoints,
    serviceEndpoints: [...ownEndpoints, ...parseSiteList(e.FERRY_SERVICE_ENDPOINTS).entries()],
    ssh: {
      privateKeyFile: e.FERRY_SSH_PRIVATE_KEY_FILE,
      connectTimeoutMs: e.FERRY_SSH_CONNECT_TIMEOUT_MS,
      connectAttempts: e.FERRY_HOST_CONNECT_ATTEMPTS,
      maxSessionsPerHost: e.FERRY_SSH_MAX_SESSIONS_PER_HOST,
    },
  };
}
