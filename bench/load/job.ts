/**
 * The contract between the runner and the load-generator child process: a named job with JSON
 * parameters, run against one target; the child reports marks (the runner may act, e.g. read the
 * broker's RSS, before telling it to continue) and finally one result.
 */

export type Target = { kind: 'warren'; url: string } | { kind: 'amqp'; url: string };

export type JobParams = Record<string, unknown>;
export type JobResult = Record<string, unknown>;

export interface JobContext<P extends JobParams = JobParams> {
  readonly target: Target;
  readonly params: P;
  /**
   * Tells the runner a point was reached and waits until it says continue. The mark `measure` starts
   * the measured window (the runner starts its broker CPU meter there).
   */
  mark(name: string, data?: unknown): Promise<void>;
}

export type Job<P extends JobParams = JobParams> = (ctx: JobContext<P>) => Promise<JobResult>;

export type ToChild = { type: 'start'; job: string; params: JobParams; target: Target } | { type: 'continue' };

export type FromChild =
  | { type: 'mark'; name: string; data?: unknown }
  | { type: 'result'; result: JobResult; generatorCpuPct: number | undefined }
  | { type: 'error'; message: string };
