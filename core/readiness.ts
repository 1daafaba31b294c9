// Readiness as a load balancer or an orchestrator asks for it (/readyz): each dependency a process cannot serve
// without is probed, with a deadline, and the answer names the ones that failed. Liveness (/healthz) asks nothing:
// a process that can answer is alive, and restarting it would not bring a database back.

export type ReadinessProbe = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  /** Each probe's result: "ok", or why it failed. */
  checks: Record<string, string>;
}

export interface Readiness {
  report(): Promise<ReadinessReport>;
  /** From now on the process is not ready (it is draining before it stops), whatever its probes say. */
  drain(): void;
}

const DEFAULT_DEADLINE_MS = 2_000;

export function createReadiness(probes: Record<string, ReadinessProbe>, deadlineMs = DEFAULT_DEADLINE_MS): Readiness {
  let draining = false;
  const probe = async (run: ReadinessProbe): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${deadlineMs} ms`), deadlineMs);
    });
    try {
      return await Promise.race([
        run().then(
          () => 'ok',
          (err: unknown) => (err instanceof Error ? err.message : String(err)) || 'failed',
        ),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async report() {
      const names = Object.keys(probes);
      const results = await Promise.all(names.map((name) => probe(probes[name]!)));
      const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
      if (draining) checks.shutdown = 'draining: this process is stopping';
      return { ready: !draining && Object.values(checks).every((c) => c === 'ok'), checks };
    },
    drain() {
      draining = true;
    },
  };
}
