import { parseArgs } from 'node:util';
import { DEFAULT_MAX_BODY_SIZE } from './broker/broker.js';
import { DEFAULT_CONSUMER_TIMEOUT_MS, MAX_CONSUMER_TIMEOUT_MS } from './broker/consumer-timeout.js';
import { parseOriginList } from './http/origin-check.js';
import { AUTH_BACKENDS, type AuthBackend } from './auth/auth-backends.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface WarrenConfig {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** AMQP 0-9-1 over TCP: 0 = any free port, `off` = no listener. */
  readonly amqpPort: number | 'off';
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Seconds between heartbeats; 0 turns them off. */
  readonly heartbeat: number;
  readonly maxBodySize: number;
  readonly defaultUser: string;
  readonly defaultPass: string;
  /** Milliseconds a new WebSocket connection has to send `connect`. */
  readonly handshakeTimeout: number;
  /** Bytes of free disk space below which persistent publishes are refused. */
  readonly diskFreeLimit: number;
  /** Bytes per message-store segment file. */
  readonly segmentSize: number;
  /** Memory high watermark: a fraction of RAM (at most 1) or bytes (above 1). */
  readonly memoryHighWatermark: number;
  /** Milliseconds a delivery may stay unacked before its consumer is cancelled; 0 = no limit. */
  readonly consumerTimeout: number;
  /** Prometheus metrics (`/metrics`) on the HTTP host: 0 = any free port, `off` = no listener. */
  readonly prometheusPort: number | 'off';
  /** TLS (docs/tls.md): PEM files; with cert and key the HTTP port speaks HTTPS/WSS and AMQPS listens. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
  readonly tlsMinVersion: TlsVersion;
  /** OpenSSL cipher list; `TLS_…` names choose the TLSv1.3 suites, which are otherwise left as Node's. */
  readonly tlsCiphers?: string;
  /** Request a client certificate and refuse a client without one verified against --tls-ca. */
  readonly tlsVerifyPeer: boolean;
  /** AMQP 0-9-1 over TLS, when TLS is configured: 0 = any free port, `off` = no listener. */
  readonly amqpsPort: number | 'off';
  /** Origins (besides the broker's own) whose pages may open `/ws` and `/amqp`, and call `/api` (CORS). */
  readonly wsAllowedOrigins: readonly string[];
  /** `internal`, `oauth2`; empty = both when an OAuth 2 issuer or key is set, else internal. */
  readonly authBackends: readonly AuthBackend[];
  /** OAuth 2 (token login): the issuer (`iss`; its JWKS by OpenID discovery when no JWKS URL). '' = none. */
  readonly oauth2Issuer: string;
  readonly oauth2JwksUrl: string;
  /** What `aud` must contain and scopes are prefixed with. */
  readonly oauth2ResourceServerId: string;
  /** PEM public key files (comma-separated); a file's base name is its key id. */
  readonly oauth2KeyFile: readonly string[];
  /** Shared HS256 secret, for development. '' = none. */
  readonly oauth2Hs256Key: string;
  /** Extra claim holding scopes (dotted path). '' = `scope` only. */
  readonly oauth2ScopeClaim: string;
  /** Claims tried in order for the user name. */
  readonly oauth2UsernameClaim: readonly string[];
  /** Cluster mode (docs/cluster.md): without it none of the settings below is read and etcd is never contacted. */
  readonly cluster: boolean;
  readonly nodeId: string;
  /** Where clients reach this node; '' = `http://HOST:PORT`. */
  readonly advertise: string;
  readonly etcd: readonly string[];
  readonly etcdPrefix: string;
  /** In-sync replicas (the leader included) every confirm needs; a cluster setting, written by the first node. */
  readonly minInsync: number;
  readonly leaseTtl: number;
  /** Node-to-node listener: replication and client tunnels. 0 = any free port. */
  readonly clusterPort: number;
  /** host:port other nodes use to reach the cluster port; '' = HOST and the bound port. */
  readonly clusterAdvertise: string;
  readonly clusterSecretFile: string;
  readonly replicaAckTimeout: number;
  readonly diskStallTimeout: number;
  /** 0 = three lease TTLs. */
  readonly maxMainStall: number;
}

export const defaultConfig: WarrenConfig = {
  host: '127.0.0.1',
  port: 15672,
  amqpPort: 5672,
  dataDir: './data',
  logLevel: 'info',
  heartbeat: 30,
  maxBodySize: DEFAULT_MAX_BODY_SIZE,
  defaultUser: 'guest',
  defaultPass: 'guest',
  handshakeTimeout: 10_000,
  diskFreeLimit: 50 * 1024 * 1024,
  segmentSize: 32 * 1024 * 1024,
  memoryHighWatermark: 0.4,
  consumerTimeout: DEFAULT_CONSUMER_TIMEOUT_MS,
  prometheusPort: 15692,
  tlsMinVersion: 'TLSv1.2',
  tlsVerifyPeer: false,
  amqpsPort: 5671,
  wsAllowedOrigins: [],
  authBackends: [],
  oauth2Issuer: '',
  oauth2JwksUrl: '',
  oauth2ResourceServerId: 'warren',
  oauth2KeyFile: [],
  oauth2Hs256Key: '',
  oauth2ScopeClaim: '',
  oauth2UsernameClaim: ['sub', 'client_id'],
  cluster: false,
  nodeId: '',
  advertise: '',
  etcd: [],
  etcdPrefix: '/warren',
  minInsync: 2,
  leaseTtl: 10,
  clusterPort: 5679,
  clusterAdvertise: '',
  clusterSecretFile: '',
  replicaAckTimeout: 5000,
  diskStallTimeout: 10_000,
  maxMainStall: 0,
};

/** Each setting: its flag, its environment variable, and how to read it. */
const settings = {
  host: { flag: 'host', env: 'WARREN_HOST', parse: nonEmpty },
  port: { flag: 'port', env: 'WARREN_PORT', parse: integer(0, 65535) },
  amqpPort: { flag: 'amqp-port', env: 'WARREN_AMQP_PORT', parse: portOrOff },
  dataDir: { flag: 'data-dir', env: 'WARREN_DATA_DIR', parse: nonEmpty },
  logLevel: { flag: 'log-level', env: 'WARREN_LOG_LEVEL', parse: logLevel },
  heartbeat: { flag: 'heartbeat', env: 'WARREN_HEARTBEAT', parse: integer(0, 65535) },
  maxBodySize: { flag: 'max-body-size', env: 'WARREN_MAX_BODY_SIZE', parse: integer(1, 512 * 1024 * 1024) },
  defaultUser: { flag: 'default-user', env: 'WARREN_DEFAULT_USER', parse: nonEmpty },
  defaultPass: { flag: 'default-pass', env: 'WARREN_DEFAULT_PASS', parse: nonEmpty },
  handshakeTimeout: { flag: 'handshake-timeout', env: 'WARREN_HANDSHAKE_TIMEOUT', parse: integer(1, 3_600_000) },
  diskFreeLimit: { flag: 'disk-free-limit', env: 'WARREN_DISK_FREE_LIMIT', parse: integer(0, Number.MAX_SAFE_INTEGER) },
  segmentSize: { flag: 'segment-size', env: 'WARREN_SEGMENT_SIZE', parse: integer(4096, 1024 * 1024 * 1024) },
  memoryHighWatermark: { flag: 'memory-high-watermark', env: 'WARREN_MEMORY_HIGH_WATERMARK', parse: positiveNumber },
  consumerTimeout: { flag: 'consumer-timeout', env: 'WARREN_CONSUMER_TIMEOUT', parse: integer(0, MAX_CONSUMER_TIMEOUT_MS) },
  prometheusPort: { flag: 'prometheus-port', env: 'WARREN_PROMETHEUS_PORT', parse: portOrOff },
  tlsCert: { flag: 'tls-cert', env: 'WARREN_TLS_CERT', parse: nonEmpty },
  tlsKey: { flag: 'tls-key', env: 'WARREN_TLS_KEY', parse: nonEmpty },
  tlsCa: { flag: 'tls-ca', env: 'WARREN_TLS_CA', parse: nonEmpty },
  tlsMinVersion: { flag: 'tls-min-version', env: 'WARREN_TLS_MIN_VERSION', parse: tlsVersion },
  tlsCiphers: { flag: 'tls-ciphers', env: 'WARREN_TLS_CIPHERS', parse: nonEmpty },
  tlsVerifyPeer: { flag: 'tls-verify-peer', env: 'WARREN_TLS_VERIFY_PEER', parse: boolean, boolean: true },
  amqpsPort: { flag: 'amqps-port', env: 'WARREN_AMQPS_PORT', parse: portOrOff },
  wsAllowedOrigins: { flag: 'ws-allowed-origins', env: 'WARREN_WS_ALLOWED_ORIGINS', parse: parseOriginList },
  authBackends: { flag: 'auth-backends', env: 'WARREN_AUTH_BACKENDS', parse: parseAuthBackends },
  oauth2Issuer: { flag: 'oauth2-issuer', env: 'WARREN_OAUTH2_ISSUER', parse: httpUrl },
  oauth2JwksUrl: { flag: 'oauth2-jwks-url', env: 'WARREN_OAUTH2_JWKS_URL', parse: httpUrl },
  oauth2ResourceServerId: { flag: 'oauth2-resource-server-id', env: 'WARREN_OAUTH2_RESOURCE_SERVER_ID', parse: nonEmpty },
  oauth2KeyFile: { flag: 'oauth2-key-file', env: 'WARREN_OAUTH2_KEY_FILE', parse: commaList },
  oauth2Hs256Key: { flag: 'oauth2-hs256-key', env: 'WARREN_OAUTH2_HS256_KEY', parse: nonEmpty },
  oauth2ScopeClaim: { flag: 'oauth2-scope-claim', env: 'WARREN_OAUTH2_SCOPE_CLAIM', parse: nonEmpty },
  oauth2UsernameClaim: { flag: 'oauth2-username-claim', env: 'WARREN_OAUTH2_USERNAME_CLAIM', parse: commaList },
  cluster: { flag: 'cluster', env: 'WARREN_CLUSTER', parse: boolean, boolean: true },
  nodeId: { flag: 'node-id', env: 'WARREN_NODE_ID', parse: nodeId },
  advertise: { flag: 'advertise', env: 'WARREN_ADVERTISE', parse: clientUrl },
  etcd: { flag: 'etcd', env: 'WARREN_ETCD', parse: urlList },
  etcdPrefix: { flag: 'etcd-prefix', env: 'WARREN_ETCD_PREFIX', parse: etcdPrefix },
  minInsync: { flag: 'min-insync', env: 'WARREN_MIN_INSYNC', parse: integer(1, 64) },
  leaseTtl: { flag: 'lease-ttl', env: 'WARREN_LEASE_TTL', parse: integer(2, 3600) },
  clusterPort: { flag: 'cluster-port', env: 'WARREN_CLUSTER_PORT', parse: integer(0, 65535) },
  clusterAdvertise: { flag: 'cluster-advertise', env: 'WARREN_CLUSTER_ADVERTISE', parse: hostPort },
  clusterSecretFile: { flag: 'cluster-secret-file', env: 'WARREN_CLUSTER_SECRET_FILE', parse: nonEmpty },
  replicaAckTimeout: { flag: 'replica-ack-timeout', env: 'WARREN_REPLICA_ACK_TIMEOUT', parse: integer(100, 3_600_000) },
  diskStallTimeout: { flag: 'disk-stall-timeout', env: 'WARREN_DISK_STALL_TIMEOUT', parse: integer(100, 3_600_000) },
  maxMainStall: { flag: 'max-main-stall', env: 'WARREN_MAX_MAIN_STALL', parse: integer(100, 3_600_000) },
} as const satisfies { [K in keyof WarrenConfig]-?: { flag: string; env: string; parse: (raw: string) => WarrenConfig[K]; boolean?: true } };

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export class ConfigError extends Error {}

export const usage = `Usage: warren [options]

Options (each also from an environment variable; a flag wins over the variable):
${Object.entries(settings)
  .map(([key, s]) => `  --${s.flag.padEnd(18)} ${s.env.padEnd(25)} default: ${String(defaultConfig[key as keyof WarrenConfig] ?? '(none)')}`)
  .join('\n')}
  --help`;

/** Flags win over environment variables, which win over defaults. Throws ConfigError on bad input. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): WarrenConfig {
  const { values } = parseArgs({
    args: [...argv],
    // A boolean setting is a bare flag (`--tls-verify-peer`); its variable says true or false.
    options: Object.fromEntries(Object.values(settings).map((s) => [s.flag, { type: 'boolean' in s ? ('boolean' as const) : ('string' as const) }])),
    strict: true,
    allowPositionals: false,
  });
  const config: Record<string, unknown> = { ...defaultConfig };
  for (const [key, setting] of Object.entries(settings)) {
    const fromFlag = values[setting.flag];
    const raw = fromFlag === true ? 'true' : typeof fromFlag === 'string' ? fromFlag : env[setting.env];
    if (raw === undefined || raw === '') continue;
    try {
      config[key] = setting.parse(raw);
    } catch (error) {
      const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env;
      throw new ConfigError(`${source}: ${(error as Error).message}`);
    }
  }
  checkTls(config as unknown as WarrenConfig);
  checkCluster(config as unknown as WarrenConfig, values);
  return config as unknown as WarrenConfig;
}

/** Cluster settings without `--cluster` would be silently ignored; with it, some are required. */
function checkCluster(config: WarrenConfig, given: Readonly<Record<string, unknown>>): void {
  const clusterKeys = ['nodeId', 'advertise', 'etcd', 'etcdPrefix', 'minInsync', 'leaseTtl', 'clusterPort', 'clusterAdvertise', 'clusterSecretFile', 'replicaAckTimeout', 'diskStallTimeout', 'maxMainStall'] as const;
  if (!config.cluster) {
    const orphans = clusterKeys.filter((key) => given[settings[key].flag] !== undefined).map((key) => `--${settings[key].flag}`);
    if (orphans.length > 0) throw new ConfigError(`${orphans.join(', ')} need --cluster`);
    return;
  }
  const missing = [config.nodeId === '' && '--node-id', config.etcd.length === 0 && '--etcd', config.clusterSecretFile === '' && '--cluster-secret-file'].filter(
    (flag) => flag !== false,
  );
  if (missing.length > 0) throw new ConfigError(`--cluster needs ${missing.join(', ')}`);
  if (config.amqpPort !== 'off' && config.amqpPort !== 0 && config.amqpPort === config.clusterPort) throw new ConfigError('--cluster-port must differ from --amqp-port');
}

/** The TLS settings only make sense together: a certificate needs its key, and the rest need both. */
function checkTls(config: WarrenConfig): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError(`--tls-cert and --tls-key go together: ${config.tlsCert === undefined ? '--tls-key' : '--tls-cert'} is set without the other`);
  }
  if (config.tlsCert !== undefined) {
    if (config.tlsVerifyPeer && config.tlsCa === undefined) throw new ConfigError('--tls-verify-peer needs --tls-ca: the CA client certificates are verified against');
    return;
  }
  const orphans = [
    config.tlsCa !== undefined && '--tls-ca',
    config.tlsCiphers !== undefined && '--tls-ciphers',
    config.tlsVerifyPeer && '--tls-verify-peer',
    config.tlsMinVersion !== defaultConfig.tlsMinVersion && '--tls-min-version',
  ].filter((flag) => flag !== false);
  if (orphans.length > 0) throw new ConfigError(`${orphans.join(', ')} need --tls-cert and --tls-key`);
}

function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw;
}

function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new Error(`expected an integer from ${min} to ${max}, got '${raw}'`);
    return value;
  };
}

function portOrOff(raw: string): number | 'off' {
  if (raw.trim() === 'off') return 'off';
  return integer(0, 65535)(raw);
}

function positiveNumber(raw: string): number {
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(value > 0)) throw new Error(`expected a positive number, got '${raw}'`);
  return value;
}

function tlsVersion(raw: string): TlsVersion {
  if (raw !== 'TLSv1.2' && raw !== 'TLSv1.3') throw new Error(`expected TLSv1.2 or TLSv1.3, got '${raw}'`);
  return raw;
}

function boolean(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`expected true or false, got '${raw}'`);
}

function logLevel(raw: string): LogLevel {
  const levels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!(levels as string[]).includes(raw)) throw new Error(`expected one of ${levels.join(', ')}, got '${raw}'`);
  return raw as LogLevel;
}

function commaList(raw: string): string[] {
  const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new Error('must not be empty');
  return items;
}

function parseAuthBackends(raw: string): AuthBackend[] {
  const backends = commaList(raw);
  const known: readonly string[] = AUTH_BACKENDS;
  const unknown = backends.find((backend) => !known.includes(backend));
  if (unknown !== undefined) throw new Error(`unknown auth backend '${unknown}': expected ${AUTH_BACKENDS.join(', ')}`);
  return AUTH_BACKENDS.filter((backend) => backends.includes(backend));
}

function nodeId(raw: string): string {
  if (!/^[A-Za-z0-9._-]{1,63}$/.test(raw)) throw new Error(`expected 1-63 letters, digits, '.', '_' or '-', got '${raw}'`);
  return raw;
}

function clientUrl(raw: string): string {
  if (!/^(https?|wss?):\/\/[^\s/]+\/?$/.test(raw.trim())) throw new Error(`expected a URL such as http://host:15672, got '${raw}'`);
  return raw.trim().replace(/\/$/, '');
}

function urlList(raw: string): string[] {
  return commaList(raw).map(httpUrl);
}

function etcdPrefix(raw: string): string {
  if (!/^\/[\x21-\x7e]*[^/\s]$/.test(raw.trim())) throw new Error(`expected a key prefix such as /warren/prod (leading '/', no trailing '/'), got '${raw}'`);
  return raw.trim();
}

function hostPort(raw: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d{1,5})$/.exec(raw.trim());
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) throw new Error(`expected host:port, got '${raw}'`);
  return raw.trim();
}

function httpUrl(raw: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(raw.trim())) throw new Error(`expected an http(s) URL, got '${raw}'`);
  return raw.trim();
}
