// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests that
// check what /metrics serves: it throws on any line it does not understand, on a sample
// outside its family, and on a family without HELP or TYPE.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help: string;
  type: string;
  samples: PromSample[];
}

// The series names a family of each type may use.
const suffixes: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/;

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = labelPair.exec(rest);
    if (!m) throw new Error(`bad labels in: ${line}`);
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]!] = unescape(m[2]!);
    rest = rest.slice(m[0].length);
  }
  return labels;
}

// NaN in any case: prom-client 15 writes `Nan` (an event-loop lag with no samples yet), which
// Prometheus reads (Go's ParseFloat ignores the case).
function parseValue(text: string, line: string): number {
  const special: Record<string, number> = { '+Inf': Infinity, '-Inf': -Infinity, nan: NaN };
  const key = text.toLowerCase() === 'nan' ? 'nan' : text;
  const value = key in special ? special[key]! : Number(text);
  if (Number.isNaN(value) && key !== 'nan') throw new Error(`bad value in: ${line}`);
  return value;
}

/** The families of a scrape by name, in the order served. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const helps = new Map<string, string>();
  let current: PromFamily | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment as unknown as [string, string, string, string];
      if (!metricName.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (keyword === 'HELP') helps.set(name, rest);
      else {
        if (families.has(name)) throw new Error(`family ${name} twice`);
        if (!(rest in suffixes)) throw new Error(`unknown type in: ${line}`);
        const help = helps.get(name);
        if (help === undefined) throw new Error(`no HELP before: ${line}`);
        current = { name, help, type: rest, samples: [] };
        families.set(name, current);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`bad line: ${line}`);
    const name = m[1]!;
    if (!current || !suffixes[current.type]!.some((s) => name === current!.name + s)) throw new Error(`sample outside its family: ${line}`);
    current.samples.push({ name, labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3]!, line) });
  }
  return families;
}

/** A sample's identity: its series name and labels in a fixed order. */
export function seriesKey(s: PromSample): string {
  return `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}}`;
}
