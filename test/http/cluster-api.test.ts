/** `GET /api/cluster`: a single node says so; with a cluster status source, its view; monitoring or administrator only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/cluster/cluster-status.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, createUser, record, type Api } from './support.js';

describe('GET /api/cluster on a single node', () => {
  let warren: RunningWarren;
  let api: Api;

  beforeAll(async () => {
    warren = await startWarren();
    api = apiClient(warren.server.app);
  });
  afterAll(() => warren.stop());

  it('answers cluster: false with the cluster name as node', async () => {
    const name = record((await api('GET', '/api/cluster-name')).body).name;
    expect((await api('GET', '/api/cluster')).body).toEqual({ cluster: false, node: name });
    expect((await api('PUT', '/api/cluster-name', { body: { name: 'renamed' } })).status).toBe(204);
    expect((await api('GET', '/api/cluster')).body).toEqual({ cluster: false, node: 'renamed' });
  });

  it('is for monitoring and administrator users only', async () => {
    const monitor = await createUser(api, 'cluster-monitor', 'monitoring');
    const manager = await createUser(api, 'cluster-manager', 'management');
    expect((await api('GET', '/api/cluster', { as: monitor })).status).toBe(200);
    // RabbitMQ's answer to a missing tag: 401 naming it.
    const refused = await api('GET', '/api/cluster', { as: manager });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'not_authorised', reason: 'Not monitor user' });
    expect((await api('GET', '/api/cluster', { as: null })).status).toBe(401);
  });
});

describe('GET /api/cluster with a cluster status source', () => {
  const status: ClusterStatus = {
    cluster: true,
    node: 'a',
    role: 'leader',
    epoch: '12',
    leader: 'a',
    minInsync: 2,
    isr: ['a', 'b'],
    members: [
      { nodeId: 'a', advertise: 'http://10.0.0.1:15672', role: 'leader', state: 'leader' },
      { nodeId: 'b', advertise: 'http://10.0.0.2:15672', role: 'follower', state: 'in-sync', ackedSeq: 41, lagEntries: 1 },
      { nodeId: 'c', advertise: 'http://10.0.0.3:15672', role: 'follower', state: 'catching-up', ackedSeq: 0, lagEntries: 42 },
    ],
  };
  let warren: RunningWarren;

  beforeAll(async () => {
    warren = await startWarren({}, { clusterStatus: async () => status });
  });
  afterAll(() => warren.stop());

  it('answers the source’s view as it is', async () => {
    expect((await apiClient(warren.server.app)('GET', '/api/cluster')).body).toEqual(status);
  });
});
