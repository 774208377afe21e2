import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/**
 * A scrape parsed by parse-prometheus-text-format, an independent parser of the text exposition format
 * (prom2json's output shape). Note: it folds every series of a *labelled* histogram into one, so
 * labelled histograms are checked on the raw text.
 */
export interface Scrape {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly families: Map<string, ParsedFamily>;
}

export async function scrape(port: number, path = '/metrics'): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  const families = new Map<string, ParsedFamily>();
  if (response.status === 200) for (const family of parsePrometheusTextFormat(text)) families.set(family.name, family);
  return { status: response.status, contentType: response.headers.get('content-type'), text, families };
}

/** The value of the one series of `name` whose labels include `labels`; throws when there is not exactly one. */
export function valueOf(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = s.families.get(name);
  if (!family) throw new Error(`no metric family '${name}' in the scrape`);
  const matching = family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (matching.length !== 1) throw new Error(`${matching.length} series of '${name}' match ${JSON.stringify(labels)}`);
  return Number(matching[0]?.value);
}

/** Every series' labels of `name`. */
export function labelsOf(s: Scrape, name: string): Record<string, string>[] {
  return (s.families.get(name)?.metrics ?? []).map((m) => m.labels ?? {});
}

export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
