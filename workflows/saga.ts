// Compensations registered as steps create things, run in reverse when a workflow fails or is cancelled.
import { CancellationScope, log } from '@temporalio/workflow';

export class Saga {
  private readonly undo: { what: string; run: () => Promise<unknown> }[] = [];

  add(what: string, run: () => Promise<unknown>): void {
    this.undo.push({ what, run });
  }

  /** Runs every compensation, newest first, even if the workflow is being cancelled; one failing does not stop the rest. */
  async compensate(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      for (const { what, run } of this.undo.reverse()) {
        try {
          await run();
        } catch (err) {
          log.error('compensation failed', { what, error: String(err) });
        }
      }
    });
  }
}
