// A bounded number of sessions per host: work for a busy host waits its turn instead of opening yet another SSH
// session (a hypervisor host has better things to do than serve forty qemu-img runs at once). These slots count one
// process's sessions; the workers use activities/host-session-slots.ts, which counts every process's.

export interface HostSlots {
  /**
   * Runs `work` once fewer than the limit are running for `host`; the slot is freed when it settles. An abort of
   * `signal` while still waiting gives up the place in line and rejects with the signal's reason.
   */
  run<T>(host: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface LocalHostSlots extends HostSlots {
  /** Sessions running and waiting for `host` (for tests and diagnostics). */
  load(host: string): { running: number; waiting: number };
}

/** Waits in `line` until handed the slot; an abort first leaves the line (the slot then goes to the next). */
function waitTurn(line: (() => void)[], signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const turn = () => {
      signal?.removeEventListener('abort', leave);
      resolve();
    };
    const leave = () => {
      const at = line.indexOf(turn);
      if (at >= 0) line.splice(at, 1);
      const reason: unknown = signal!.reason;
      reject(reason instanceof Error ? reason : new Error(String(reason)));
    };
    line.push(turn);
    signal?.addEventListener('abort', leave, { once: true });
  });
}

export function createHostSlots(limit: number): LocalHostSlots {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`a host session limit must be at least 1, not ${limit}`);
  const hosts = new Map<string, { running: number; waiting: (() => void)[] }>();
  const entry = (host: string) => {
    let e = hosts.get(host);
    if (!e) hosts.set(host, (e = { running: 0, waiting: [] }));
    return e;
  };
  return {
    async run(host, work, signal) {
      signal?.throwIfAborted();
      const e = entry(host);
      if (e.running >= limit) await waitTurn(e.waiting, signal);
      else e.running++;
      try {
        return await work();
      } finally {
        // Hand the slot straight to the next in line (running stays the same), or give it back.
        const next = e.waiting.shift();
        if (next) next();
        else if (--e.running === 0) hosts.delete(host);
      }
    },
    load(host) {
      const e = hosts.get(host);
      return { running: e?.running ?? 0, waiting: e?.waiting.length ?? 0 };
    },
  };
}
