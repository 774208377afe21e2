// The generated method table must say exactly what RabbitMQ's machine-readable spec says.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BASIC_PROPERTY_TABLE, METHOD_TABLE, SPEC_CONSTANTS } from '../../../src/protocol/amqp/spec/methods.js';

interface SpecArg { name: string; type?: string; domain?: string; 'default-value'?: unknown }
interface Spec {
  domains: [string, string][];
  constants: { name: string; value: number }[];
  classes: { name: string; id: number; methods: { name: string; id: number; synchronous?: boolean; content?: boolean; arguments: SpecArg[] }[]; properties?: { name: string; type: string }[] }[];
}

const spec: Spec = JSON.parse(readFileSync(new URL('../../fixtures/amqp/amqp-rabbitmq-0.9.1.json', import.meta.url), 'utf8'));
const domains = new Map(spec.domains);

describe('method table against amqp-rabbitmq-0.9.1.json', () => {
  const fromSpec = spec.classes.flatMap((c) =>
    c.methods.map((m) => ({
      name: `${c.name}.${m.name}`,
      classId: c.id,
      methodId: m.id,
      synchronous: m.synchronous === true,
      content: m.content === true,
      args: m.arguments.map((a) => ({
        name: a.name,
        domain: a.domain ?? a.type,
        type: a.type ?? domains.get(a.domain ?? ''),
        ...('default-value' in a ? { default: a['default-value'] } : {}),
      })),
    })),
  );

  it('has every method of every class, in the spec order, and nothing else', () => {
    expect(METHOD_TABLE.map((m) => m.name)).toEqual(fromSpec.map((m) => m.name));
    expect(METHOD_TABLE).toHaveLength(fromSpec.length);
    expect(fromSpec.length).toBeGreaterThan(60);
  });

  it.each(fromSpec)('$name: ids, flags, argument names, domains, wire types and defaults', (expected) => {
    const m = METHOD_TABLE.find((t) => t.name === expected.name);
    expect(m).toBeDefined();
    expect({ classId: m?.classId, methodId: m?.methodId, synchronous: m?.synchronous, content: m?.content }).toEqual({
      classId: expected.classId,
      methodId: expected.methodId,
      synchronous: expected.synchronous,
      content: expected.content,
    });
    expect(m?.args.map((a) => ({ name: a.name, domain: a.domain, type: a.type, ...('default' in a ? { default: a.default } : {}) }))).toEqual(expected.args);
  });

  it('ids are unique', () => {
    const ids = METHOD_TABLE.map((m) => m.classId * 65536 + m.methodId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has the 14 basic properties in the spec order with their types', () => {
    const basic = spec.classes.find((c) => c.name === 'basic');
    expect(BASIC_PROPERTY_TABLE.map((p) => ({ name: p.name, type: p.type }))).toEqual(basic?.properties);
    expect(BASIC_PROPERTY_TABLE).toHaveLength(14);
  });

  it('has every constant', () => {
    expect(Object.entries(SPEC_CONSTANTS)).toEqual(spec.constants.map((c) => [c.name, c.value]));
  });

  it('methods.ts is exactly what generate.mjs produces from the committed JSON', () => {
    const script = new URL('../../../src/protocol/amqp/spec/generate.mjs', import.meta.url).pathname;
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
