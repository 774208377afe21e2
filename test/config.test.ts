import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig } from '../src/config.js';
import { VERSION } from '../src/version.js';

describe('loadConfig', () => {
  it('uses the defaults with no flags or environment', () => {
    expect(loadConfig([], {})).toEqual(defaultConfig);
    expect(defaultConfig).toMatchObject({ host: '127.0.0.1', port: 15672, dataDir: './data', logLevel: 'info' });
  });

  it('reads WARREN_* environment variables', () => {
    const config = loadConfig([], {
      WARREN_HOST: '0.0.0.0',
      WARREN_PORT: '0',
      WARREN_DATA_DIR: '/tmp/w',
      WARREN_LOG_LEVEL: 'debug',
      WARREN_HEARTBEAT: '5',
      WARREN_MAX_BODY_SIZE: '1024',
      WARREN_DEFAULT_USER: 'admin',
      WARREN_DEFAULT_PASS: 'secret',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      dataDir: '/tmp/w',
      logLevel: 'debug',
      heartbeat: 5,
      maxBodySize: 1024,
      defaultUser: 'admin',
      defaultPass: 'secret',
    });
  });

  it('lets flags win over the environment', () => {
    const config = loadConfig(['--port', '1234', '--data-dir=/d'], { WARREN_PORT: '999', WARREN_DATA_DIR: '/e' });
    expect(config.port).toBe(1234);
    expect(config.dataDir).toBe('/d');
  });

  it.each([
    [['--port', 'abc'], {}, /--port: expected an integer/],
    [['--port', '70000'], {}, /--port/],
    [[], { WARREN_PORT: '-1' }, /WARREN_PORT/],
    [[], { WARREN_LOG_LEVEL: 'loud' }, /WARREN_LOG_LEVEL: expected one of/],
  ] as const)('refuses bad values: %j %j', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });

  it('reads the consumer timeout from --consumer-timeout or WARREN_CONSUMER_TIMEOUT (ms, 0 = off)', () => {
    expect(defaultConfig.consumerTimeout).toBe(1_800_000);
    expect(loadConfig([], { WARREN_CONSUMER_TIMEOUT: '60000' }).consumerTimeout).toBe(60_000);
    expect(loadConfig(['--consumer-timeout', '0'], { WARREN_CONSUMER_TIMEOUT: '60000' }).consumerTimeout).toBe(0);
    expect(() => loadConfig(['--consumer-timeout=-5'], {})).toThrow(/--consumer-timeout: expected an integer/);
    expect(() => loadConfig([], { WARREN_CONSUMER_TIMEOUT: '1.5' })).toThrow(/WARREN_CONSUMER_TIMEOUT/);
  });

  it('reads the AMQP port: a number, 0 for a free one, or off', () => {
    expect(defaultConfig.amqpPort).toBe(5672);
    expect(loadConfig(['--amqp-port', '5673'], {}).amqpPort).toBe(5673);
    expect(loadConfig([], { WARREN_AMQP_PORT: '0' }).amqpPort).toBe(0);
    expect(loadConfig(['--amqp-port', 'off'], {}).amqpPort).toBe('off');
    expect(() => loadConfig(['--amqp-port', 'nope'], {})).toThrow(/--amqp-port: expected an integer from 0 to 65535/);
  });

  it('reads the cluster settings with --cluster, from flags or WARREN_* variables', () => {
    const config = loadConfig(
      ['--cluster', '--node-id', 'n1', '--etcd', 'http://127.0.0.1:2379, http://127.0.0.1:2479', '--cluster-secret-file', '/s', '--min-insync', '1', '--cluster-port', '0'],
      { WARREN_ETCD_PREFIX: '/warren/prod', WARREN_LEASE_TTL: '5', WARREN_CLUSTER_ADVERTISE: '10.0.0.1:5679', WARREN_ADVERTISE: 'http://10.0.0.1:15672/' },
    );
    expect(config).toMatchObject({
      cluster: true,
      nodeId: 'n1',
      etcd: ['http://127.0.0.1:2379', 'http://127.0.0.1:2479'],
      clusterSecretFile: '/s',
      minInsync: 1,
      clusterPort: 0,
      etcdPrefix: '/warren/prod',
      leaseTtl: 5,
      clusterAdvertise: '10.0.0.1:5679',
      advertise: 'http://10.0.0.1:15672',
    });
    expect(loadConfig([], { WARREN_CLUSTER: 'true', WARREN_NODE_ID: 'a', WARREN_ETCD: 'http://e:2379', WARREN_CLUSTER_SECRET_FILE: '/s' }).cluster).toBe(true);
  });

  it('refuses cluster settings without --cluster, and --cluster without what it needs', () => {
    expect(() => loadConfig(['--node-id', 'n1', '--min-insync', '2'], {})).toThrow(new ConfigError('--node-id, --min-insync need --cluster'));
    expect(() => loadConfig(['--cluster', '--node-id', 'n1'], {})).toThrow(new ConfigError('--cluster needs --etcd, --cluster-secret-file'));
    expect(() => loadConfig(['--cluster', '--node-id', 'n 1', '--etcd', 'http://e:2379', '--cluster-secret-file', '/s'], {})).toThrow(/--node-id: expected 1-63 letters/);
    expect(() => loadConfig(['--cluster', '--node-id', 'n1', '--etcd', 'e:2379', '--cluster-secret-file', '/s'], {})).toThrow(/--etcd: expected an http\(s\) URL/);
    expect(() => loadConfig(['--cluster', '--node-id', 'n1', '--etcd', 'http://e:2379', '--cluster-secret-file', '/s', '--lease-ttl', '1'], {})).toThrow(/--lease-ttl: expected an integer from 2/);
    expect(() => loadConfig(['--cluster', '--node-id', 'n1', '--etcd', 'http://e:2379', '--cluster-secret-file', '/s', '--etcd-prefix', 'warren/'], {})).toThrow(/--etcd-prefix/);
    expect(() => loadConfig(['--cluster', '--node-id', 'n1', '--etcd', 'http://e:2379', '--cluster-secret-file', '/s', '--cluster-advertise', 'host'], {})).toThrow(/expected host:port/);
  });

  it('refuses unknown flags', () => {
    expect(() => loadConfig(['--prot', '1'], {})).toThrow(/Unknown option/);
  });
});

describe('VERSION', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
