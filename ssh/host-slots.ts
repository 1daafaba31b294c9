// A bounded number of sessions per host: work for a busy host waits its turn instead of opening yet another SSH
// session (a hypervisor host has better things to do than serve forty qemu-img runs at once). These slots count one
// process's sessions; the workers use activities/host-session-slots.ts, which counts every process's.

export interface HostSlots {
  /** Runs `work` once fewer than the limit are running for `host`; the slot is freed when it settles. */
  run<T>(host: string, work: () => Promise<T>): Promise<T>;
}

export interface LocalHostSlots extends HostSlots {
  /** Sessions running and waiting for `host` (for tests and diagnostics). */
  load(host: string): { running: number; waiting: number };
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
    async run(host, work) {
      const e = entry(host);
      if (e.running >= limit) await new Promise<void>((resolve) => e.waiting.push(resolve));
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
