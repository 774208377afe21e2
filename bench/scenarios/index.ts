/** The scenarios, in the order `npm run bench` runs them; 8 (the side-by-side) lives in compare.ts and runs last. */
import { backlog } from './backlog.js';
import { clusterFaults } from './cluster-faults.js';
import type { Scenario } from './common.js';
import { connections } from './connections.js';
import { declares } from './declares.js';
import { delayed } from './delayed.js';
import { fanout } from './fanout.js';
import { latency } from './latency.js';
import { persistentThroughput, transientThroughput } from './throughput.js';
import { topic } from './topic.js';
import { ttl } from './ttl.js';

export const scenarios: readonly Scenario[] = [transientThroughput, persistentThroughput, fanout, topic, latency, backlog, connections, declares, ttl, delayed, clusterFaults];
