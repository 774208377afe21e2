// RabbitMQ's published "RabbitMQ-Overview" Grafana dashboard must show data against Warren: every metric
// its PromQL selects is exposed by /metrics, with the `le` values and join labels the queries rely on.
// The queries are a fixture (test/fixtures/grafana, source and licence in its README), parsed with
// Prometheus's own PromQL grammar rather than picked out by pattern.
import { parser } from '@prometheus-io/lezer-promql';
import { readFileSync } from 'node:fs';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, type Scrape } from '../../helpers/prometheus-scrape.js';
import { startWarren, type RunningWarren } from '../../helpers/warren.js';

interface Fixture {
  readonly source: string;
  readonly targets: readonly { panel: string; expr: string }[];
  readonly templating: readonly { variable: string; query: string }[];
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/grafana/rabbitmq-overview-queries.json', import.meta.url), 'utf8')) as Fixture;

/** Labels Prometheus or Kubernetes service discovery attach to every scraped series: not Warren's to expose. */
const TARGET_LABELS = new Set(['instance', 'job', 'namespace']);

interface Needs {
  readonly metrics: Set<string>;
  /** `le` values matched, by histogram bucket series. */
  readonly buckets: Map<string, Set<string>>;
  /** Labels pulled in by `group_left(...)`. */
  readonly joined: Set<string>;
}

/** Walks the PromQL syntax tree of each query; Grafana's `$__…` interval macros become a plain duration first. */
function needsOf(queries: readonly string[]): Needs {
  const needs: Needs = { metrics: new Set(), buckets: new Map(), joined: new Set() };
  for (const raw of queries) {
    const query = raw.replace(/\$__(rate_interval|range|interval)/g, '5m');
    const tree = parser.parse(query);
    const text = (node: { from: number; to: number }): string => query.slice(node.from, node.to);
    tree.iterate({
      enter(ref) {
        if (ref.type.isError) throw new Error(`PromQL parse error at ${ref.from} in: ${raw}`);
        const node = ref.node;
        if (ref.name === 'Identifier' && node.parent?.name === 'VectorSelector') {
          const metric = text(ref);
          needs.metrics.add(metric);
          const matchers = node.parent.getChild('LabelMatchers');
          for (const matcher of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
            const label = matcher.getChild('LabelName');
            const value = matcher.getChild('StringLiteral');
            if (label && value && text(label) === 'le') {
              const set = needs.buckets.get(metric) ?? new Set<string>();
              set.add(JSON.parse(text(value)) as string);
              needs.buckets.set(metric, set);
            }
          }
        }
        if (ref.name === 'GroupLeft') {
          const labels = node.nextSibling;
          for (const label of labels?.name === 'GroupingLabels' ? labels.getChildren('LabelName') : []) needs.joined.add(text(label));
        }
      },
    });
  }
  return needs;
}

/** Series names in a scrape: a histogram family `x` is the series `x_bucket`, `x_sum` and `x_count`. */
function seriesNames(s: Scrape): Set<string> {
  const names = new Set<string>();
  for (const family of s.families.values()) {
    if (family.type === 'HISTOGRAM') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix);
    else names.add(family.name);
  }
  return names;
}

let warren: RunningWarren;
let metrics: Scrape;

beforeAll(async () => {
  warren = await startWarren();
  const connection = await amqp.connect(warren.amqpUrl);
  const ch = await connection.createChannel();
  await ch.assertQueue('dashboard');
  ch.sendToQueue('dashboard', Buffer.from('hello'));
  await ch.close();
  await connection.close();
  metrics = await scrape(warren.prometheusPort);
});

afterAll(async () => {
  await warren?.stop();
});

describe('the RabbitMQ-Overview dashboard', () => {
  const panels = needsOf(fixture.targets.map((t) => t.expr));
  // Template variables are `label_values(selector, label)`: the selector is PromQL.
  const variables = needsOf(
    fixture.templating.flatMap((v) => {
      const selector = /^label_values\((.*),\s*(\w+)\)$/.exec(v.query)?.[1];
      return selector ? [selector] : [];
    }),
  );

  it('is read from the fixture: dozens of panel queries, all parsed', () => {
    expect(fixture.source).toMatch(/RabbitMQ-Overview\.json$/);
    expect(fixture.targets.length).toBeGreaterThan(40);
    expect(panels.metrics.size).toBeGreaterThan(30);
    expect(variables.metrics).toEqual(new Set(['rabbitmq_identity_info']));
  });

  it('selects only metrics that Warren exposes on /metrics', () => {
    const exposed = seriesNames(metrics);
    const missing = [...panels.metrics, ...variables.metrics].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it("matches message-size buckets by `le` values Warren's histogram has", () => {
    const wanted = panels.buckets.get('rabbitmq_message_size_bytes_bucket');
    expect(wanted?.size).toBeGreaterThan(5);
    // Labelled histograms are read from the text: the parser folds their series.
    const present = new Set([...metrics.text.matchAll(/^rabbitmq_message_size_bytes_bucket\{[^}]*le="([^"]+)"/gm)].map((m) => m[1]));
    expect([...(wanted ?? [])].filter((le) => !present.has(le))).toEqual([]);
  });

  it('joins on labels that rabbitmq_identity_info and rabbitmq_build_info carry', () => {
    const carried = new Set(
      ['rabbitmq_identity_info', 'rabbitmq_build_info'].flatMap((name) => Object.keys(metrics.families.get(name)?.metrics[0]?.labels ?? {})),
    );
    const joined = [...panels.joined].filter((label) => !TARGET_LABELS.has(label));
    expect(joined.length).toBeGreaterThan(2);
    expect(joined.filter((label) => !carried.has(label))).toEqual([]);
  });
});
