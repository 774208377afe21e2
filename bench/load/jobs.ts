/** Every job the generator child can run, by name. */
import { backlogJobs } from '../scenarios/backlog.js';
import { connectionsJob } from '../scenarios/connections.js';
import { declaresJobs } from '../scenarios/declares.js';
import { delayedJobs } from '../scenarios/delayed.js';
import { fanoutJob } from '../scenarios/fanout.js';
import { fixedRateJob } from '../scenarios/latency.js';
import { pubSubJob } from '../scenarios/throughput.js';
import { topicJob } from '../scenarios/topic.js';
import { ttlJobs } from '../scenarios/ttl.js';
import type { Job } from './job.js';

export const jobs: Record<string, Job<never>> = {
  pubsub: pubSubJob,
  fanout: fanoutJob,
  topic: topicJob,
  'fixed-rate': fixedRateJob,
  connections: connectionsJob,
  ...backlogJobs,
  ...declaresJobs,
  ...ttlJobs,
  ...delayedJobs,
};
