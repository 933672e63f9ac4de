/**
 * What a PromQL expression reads: the metric names of its vector selectors with the label names
 * they match on, and the label names of its grouping and matching clauses (by, without, on,
 * ignoring, group_left, group_right). A tokenizer, not a parser: Prometheus itself says whether
 * the query is valid; this only says which names it depends on.
 */
export interface PromqlSelector {
  /** undefined for a selector without a name, e.g. {__name__=~"..."} */
  metric: string | undefined;
  labels: string[];
}

export interface PromqlNames {
  selectors: PromqlSelector[];
  groupingLabels: string[];
}

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'group_left', 'group_right', 'start', 'end']);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;

export function promqlNames(expr: string): PromqlNames {
  const selectors: PromqlSelector[] = [];
  const groupingLabels: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i])) i++;
  };
  const skipString = () => {
    const quote = expr[i++];
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
    i++;
  };
  const ident = (): string | undefined => {
    IDENT.lastIndex = i;
    const m = IDENT.exec(expr);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  /** At `{`: the label names of its matchers; leaves i after the `}`. */
  const matchers = (): string[] => {
    const labels: string[] = [];
    i++;
    for (;;) {
      skipSpace();
      if (i >= expr.length) return labels;
      const c = expr[i];
      if (c === '}') {
        i++;
        return labels;
      }
      if (c === '"' || c === "'" || c === '`') skipString();
      else if (c === ',' || c === '=' || c === '!' || c === '~') i++;
      else {
        const name = ident();
        if (name === undefined) i++;
        else labels.push(name);
      }
    }
  };
  /** At `(` after a grouping keyword: the label names up to `)`. */
  const labelList = (): void => {
    i++;
    for (;;) {
      skipSpace();
      if (i >= expr.length) return;
      if (expr[i] === ')') {
        i++;
        return;
      }
      if (expr[i] === ',') i++;
      else {
        const name = ident();
        if (name === undefined) i++;
        else groupingLabels.push(name);
      }
    }
  };
  while (i < expr.length) {
    skipSpace();
    if (i >= expr.length) break;
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') skipString();
    else if (c === '[') {
      // A range or subquery: durations only.
      while (i < expr.length && expr[i] !== ']') i++;
      i++;
    } else if (c === '{') selectors.push({ metric: undefined, labels: matchers() });
    else if (/[0-9.]/.test(c)) {
      // A number or a duration (0.99, 1e3, 5m, 0x1f).
      while (i < expr.length && /[0-9a-zA-Z.]/.test(expr[i])) i++;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const name = ident()!;
      skipSpace();
      if (expr[i] === '(') {
        if (GROUPING.has(name)) labelList();
        // else a function or an aggregation: its arguments are read as they come.
      } else if (KEYWORDS.has(name.toLowerCase()) || AGGREGATIONS.has(name)) {
        // An operator or modifier keyword, or an aggregation followed by its by/without clause.
      } else {
        skipSpace();
        selectors.push({ metric: name, labels: expr[i] === '{' ? matchers() : [] });
      }
    } else i++;
  }
  return { selectors, groupingLabels };
}

/** Metric families in a Prometheus text exposition: each sample name with the label names seen on it, and the declared TYPEs. */
export interface Exposition {
  samples: Map<string, Set<string>>;
  types: Map<string, string>;
}

export function parseExposition(text: string): Exposition {
  const samples = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.startsWith('#') || !line.trim()) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = samples.get(m[1]) ?? new Set<string>();
    for (const l of (m.at(3) ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]);
    samples.set(m[1], labels);
  }
  return { samples, types };
}

/** Every series name a family of the exposition exports, counting a histogram's _bucket/_sum/_count and a summary's _sum/_count. */
export function exportedNames(e: Exposition): Set<string> {
  const names = new Set(e.samples.keys());
  for (const [name, type] of e.types) {
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}
