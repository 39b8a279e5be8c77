// Every generated YAML file reads the same under YAML 1.1 (PyYAML, older Go and Java parsers) and
// YAML 1.2, parsed strictly (duplicate keys and any warning are errors): an unquoted `=` (a
// matcher's matchType) or `on`/`no` would be another type, or refused, for a 1.1 parser.
import { describe, expect, it } from 'vitest';
import { parse, parseDocument, visit } from 'yaml';
import { generateKubernetes, generateOps, type OpsOptions } from '../src/index.js';
import { toYaml } from '../src/yaml-text.js';

const ALL: OpsOptions = {
  nodeExporter: { enabled: true },
  postgresExporter: { enabled: true },
  redisExporter: { enabled: true },
  optional: { auth: true, websocket: true, botResources: true, uploads: true },
  aggregateBy: ['cluster'],
  grafana: { url: 'https://grafana.example.com', clusterVariable: true },
};

/** The problems a strict reader finds in `text`: parse errors and warnings, 1.1/1.2 disagreements. */
function strictProblems(text: string): string[] {
  const problems: string[] = [];
  for (const version of ['1.1', '1.2'] as const) {
    const doc = parseDocument(text, { version, strict: true, uniqueKeys: true, prettyErrors: true });
    for (const e of [...doc.errors, ...doc.warnings]) problems.push(`YAML ${version}: ${e.message}`);
    visit(doc, {
      Scalar(_key, node) {
        if (node.type === 'PLAIN' && node.source === '=')
          problems.push('plain `=` (the YAML 1.1 value key: refused by PyYAML)');
      },
    });
  }
  if (problems.length === 0) {
    const a = JSON.stringify(parse(text, { version: '1.1' }));
    const b = JSON.stringify(parse(text, { version: '1.2' }));
    if (a !== b) problems.push('YAML 1.1 and 1.2 read different values');
  }
  return problems;
}

const yamlFiles = (files: Record<string, string>) =>
  Object.entries(files).filter(([name]) => /\.ya?ml$/.test(name));

describe('generated YAML, read strictly', () => {
  it('the checker finds what a 1.1 parser misreads (the test can fail)', () => {
    expect(strictProblems('matchType: =\n')).not.toEqual([]);
    expect(strictProblems('send_resolved: on\n')).not.toEqual([]);
    expect(strictProblems('a: 1\na: 2\n')).not.toEqual([]);
    expect(strictProblems(toYaml({ matchType: '=', v: 'on', t: '1:20', n: 'no', s: 'plain' }))).toEqual([]);
    expect(parse(toYaml({ matchType: '=' }), { version: '1.1' })).toEqual({ matchType: '=' });
  });

  it.each([
    ['files, defaults', generateOps().files],
    ['files, every option', generateOps(ALL).files],
    ['kubernetes, defaults', generateKubernetes().files],
    ['kubernetes, every option', generateKubernetes({ ...ALL, kubernetes: { monitor: 'podMonitor' } }).files],
  ])('%s', (_, files) => {
    const checked = yamlFiles(files);
    expect(checked.length).toBeGreaterThan(2);
    for (const [name, text] of checked) expect(strictProblems(text), name).toEqual([]);
  });
});
