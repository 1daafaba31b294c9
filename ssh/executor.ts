// The SSH executor: every host command Ferry runs goes through here. It pins host keys, bounds connect and
// command time and the sessions open per host, streams output to whoever asks, and takes commands as argument
// vectors (quoted by commandLine), never as shell strings.
import { setTimeout as delay } from 'node:timers/promises';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { fingerprintMatches, fingerprintOf } from './fingerprint';
import {
  CommandAbortedError,
  CommandTimeoutError,
  HostAuthenticationError,
  HostKeyMismatchError,
  HostUnreachableError,
} from './errors';
import { createHostSlots, type HostSlots } from './host-slots';
import { commandLine } from './quote';

export type HostCredential =
  { kind: 'ferry-key' } | { kind: 'password'; password: string } | { kind: 'private-key'; privateKey: string };

export interface HostEndpoint {
  address: string;
  port: number;
  username: string;
  hostKeyFingerprint: string;
  credential: HostCredential;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Output as it arrives (a long conversion's progress), besides what is captured for the result. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** When aborted (the activity was cancelled) the command is stopped on the host, then the call rejects. */
  signal?: AbortSignal;
}

export interface HostSession {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** A connection kept open by its owner (e.g. a store driver), with SFTP for streaming files. */
export interface HostConnection extends HostSession {
  sftp(): Promise<SFTPWrapper>;
  close(): void;
  /** Settles when the connection is gone (closed by either side). */
  readonly closed: Promise<void>;
  /** False once the connection dropped: the owner opens a new one. */
  readonly open: boolean;
}

/** What a host's session limit is counted by: its SSH endpoint. */
export const hostSlotKey = (endpoint: Pick<HostEndpoint, 'address' | 'port'>) => `${endpoint.address}:${endpoint.port}`;

export interface SshExecutor {
  /** Runs `work` in a session of its own once the host has a free slot; `signal` stops the wait for one. */
  withSession<T>(
    endpoint: HostEndpoint,
    work: (session: HostSession) => Promise<T>,
    options?: { signal?: AbortSignal },
  ): Promise<T>;
  connect(endpoint: HostEndpoint): Promise<HostConnection>;
}

export interface SshExecutorOptions {
  ferryPrivateKey: Buffer;
  connectTimeoutMs: number;
  commandTimeoutMs?: number;
  /** Sessions (withSession) open at once per host; more wait their turn. */
  maxSessionsPerHost?: number;
  /** Where the per-host limit is counted: by default in this process alone (the workers count it in the database). */
  slots?: HostSlots;
}

const CLOSE_WAIT_MS = 5_000;
const MAX_CAPTURE = 1 << 20; // output kept per stream; host commands here are probes, not transfers

export function createSshExecutor(options: SshExecutorOptions): SshExecutor {
  const slots = options.slots ?? createHostSlots(options.maxSessionsPerHost ?? 4);
  const executor: SshExecutor = {
    withSession(endpoint, work, sessionOptions) {
      return slots.run(
        hostSlotKey(endpoint),
        async () => {
          const connection = await executor.connect(endpoint);
          try {
            return await work(connection);
          } finally {
            connection.close();
            // The slot is free only when the host has let the connection go, so the next session never overlaps it
            // (bounded: a socket that never reports its close must not hold the slot for good).
            await Promise.race([connection.closed, delay(CLOSE_WAIT_MS, undefined, { ref: false })]);
          }
        },
        sessionOptions?.signal,
      );
    },
    async connect(endpoint) {
      const client = await connect(endpoint, options);
      let open = true;
      let sftp: Promise<SFTPWrapper> | undefined;
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.on('close', () => (open = false));
      client.on('error', () => (open = false));
      return {
        closed,
        get open() {
          return open;
        },
        run: (argv, o) =>
          exec(client, argv, o?.timeoutMs ?? options.commandTimeoutMs ?? 60_000, o?.onOutput, o?.signal),
        sftp() {
          sftp ??= new Promise((resolve, reject) =>
            client.sftp((err, s) =>
              err ? reject(new HostUnreachableError(`cannot open SFTP: ${err.message}`)) : resolve(s),
            ),
          );
          return sftp;
        },
        close() {
          open = false;
          client.end();
        },
      };
    },
  };
  return executor;
}

function connect(endpoint: HostEndpoint, options: SshExecutorOptions): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let mismatch: HostKeyMismatchError | undefined;
    const config: ConnectConfig = {
      host: endpoint.address,
      port: endpoint.port,
      username: endpoint.username,
      readyTimeout: options.connectTimeoutMs,
      // A host that vanishes without closing the connection is noticed in about 30 s, not at the command's limit.
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        if (fingerprintMatches(key, endpoint.hostKeyFingerprint)) return true;
        mismatch = new HostKeyMismatchError(endpoint.address, endpoint.hostKeyFingerprint, fingerprintOf(key));
        return false;
      },
    };
    const credential = endpoint.credential;
    if (credential.kind === 'ferry-key') config.privateKey = options.ferryPrivateKey;
    else if (credential.kind === 'private-key') config.privateKey = credential.privateKey;
    else config.password = credential.password;

    client.once('ready', () => resolve(client));
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      client.end();
      if (mismatch) return reject(mismatch);
      if (err.level === 'client-authentication') {
        return reject(
          new HostAuthenticationError(`${endpoint.username}@${endpoint.address} was refused: ${err.message}`),
        );
      }
      reject(new HostUnreachableError(`cannot reach ${endpoint.address}:${endpoint.port}: ${err.code ?? err.message}`));
    });
    client.connect(config);
  });
}

/**
 * Each command runs as its own process group (sshd starts the shell with setsid) whose id the shell reports first on
 * stderr. Closing the channel does not stop a command on the host, so a cancelled or timed-out command is stopped by
 * killing its group through a second channel: a cancelled job's curl or qemu-img must not live on after it.
 */
const GROUP_LINE = 'ferry-process-group ';

function exec(
  client: Client,
  argv: readonly string[],
  timeoutMs: number,
  onOutput?: RunOptions['onOutput'],
  signal?: AbortSignal,
): Promise<CommandResult> {
  const line = `echo "${GROUP_LINE}$$" >&2 && exec ${commandLine(argv)}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CommandAbortedError(`${argv[0]} was not started: the work was cancelled`));
    client.exec(line, (err, stream) => {
      if (err) return reject(new HostUnreachableError(`cannot open a channel: ${err.message}`));
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let group: number | undefined;
      let groupLine: Buffer | undefined = Buffer.alloc(0); // stderr until the group line is read
      let ended = false;
      let channelClosed = false;
      let groupKnown: (() => void) | undefined;
      /** The command's group, once its line arrived (waiting at most `ms`, or until the channel closed). */
      const groupOf = (ms: number) =>
        group !== undefined || channelClosed
          ? Promise.resolve(group)
          : new Promise<number | undefined>((resolve) => {
              const limit = setTimeout(() => resolve(group), ms);
              groupKnown = () => {
                clearTimeout(limit);
                resolve(group);
              };
            });
      const stop = (why: Error) => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        // A stop just after the start waits briefly for the group line: without it nothing could be killed.
        void groupOf(2_000).then(async (g) => {
          const running = !channelClosed;
          stream.close();
          if (running && g !== undefined) await killGroup(client, g);
          reject(why);
        });
      };
      const timer = setTimeout(
        () => stop(new CommandTimeoutError(`${argv[0]} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const abort = () => stop(new CommandAbortedError(`${argv[0]} was stopped: the work was cancelled`));
      signal?.addEventListener('abort', abort, { once: true });
      // Aborted while the channel was opening: the listener above never fires for a signal already aborted.
      if (signal?.aborted) abort();
      const onStderr = (chunk: Buffer) => {
        if (errBytes < MAX_CAPTURE) errOut.push(chunk);
        errBytes += chunk.length;
        onOutput?.(chunk.toString('utf8'), 'stderr');
      };
      stream.on('data', (chunk: Buffer) => {
        if (outBytes < MAX_CAPTURE) out.push(chunk);
        outBytes += chunk.length;
        onOutput?.(chunk.toString('utf8'), 'stdout');
      });
      let linesBefore = 0;
      stream.stderr.on('data', (chunk: Buffer) => {
        if (groupLine === undefined) return onStderr(chunk);
        groupLine = Buffer.concat([groupLine, chunk]);
        // The group line comes first unless the host's shell start-up wrote to stderr: look a few lines further.
        for (let newline = groupLine.indexOf(0x0a); newline >= 0; newline = groupLine.indexOf(0x0a)) {
          const line = groupLine.subarray(0, newline).toString('utf8');
          groupLine = groupLine.subarray(newline + 1);
          // A group id of 1 or less would make `kill -<id>` signal far more than the command: never taken.
          const id = line.startsWith(GROUP_LINE) ? Number(line.slice(GROUP_LINE.length)) : NaN;
          if (Number.isInteger(id) && id > 1) group = id;
          else onStderr(Buffer.from(`${line}\n`));
          if (group !== undefined || ++linesBefore >= 8) break;
        }
        if (group === undefined && linesBefore < 8 && groupLine.length < 8192) return;
        const rest = groupLine;
        groupLine = undefined;
        if (rest.length > 0) onStderr(rest);
        groupKnown?.();
      });
      stream.on('close', (code: number | null, exitSignal?: string) => {
        channelClosed = true;
        groupKnown?.();
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        if (code === null && exitSignal === undefined) {
          return reject(new HostUnreachableError(`connection lost while running ${argv[0]}`));
        }
        if (groupLine !== undefined && groupLine.length > 0) onStderr(groupLine);
        resolve({
          exitCode: code ?? 128,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(errOut).toString('utf8'),
        });
      });
    });
  });
}

/** TERM then KILL to a command's process group over a fresh channel; best effort, bounded (the host may be gone). */
function killGroup(client: Client, group: number): Promise<void> {
  const g = String(group);
  // No `--`: dash's kill (a host's /bin/sh) refuses it; a negative number is a process group to both dash and bash.
  const line = `kill -TERM -${g} 2>/dev/null; sleep 1; kill -KILL -${g} 2>/dev/null; true`;
  return new Promise((resolve) => {
    const limit = setTimeout(resolve, 5_000);
    const done = () => {
      clearTimeout(limit);
      resolve();
    };
    try {
      client.exec(line, (err, stream) => {
        if (err) return done();
        stream.on('close', done);
        stream.resume();
        stream.stderr.resume();
      });
    } catch {
      done(); // the connection is already closed
    }
  });
}
