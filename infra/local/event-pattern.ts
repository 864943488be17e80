// EventBridge event-pattern matching (also the syntax of Lambda event-source filters), for the
// local bus and the local stream poller. Covers: exact values, prefix, suffix, anything-but,
// numeric, exists, equals-ignore-case, wildcard and $or, as documented in the EventBridge guide
// "Creating event patterns".
type Pattern = { [key: string]: unknown };

export function matches(pattern: Pattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  const fields = event as Record<string, unknown>;
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(rule as Pattern[]).some((alt) => matches(alt, fields))) return false;
      continue;
    }
    const value = fields[key];
    if (Array.isArray(rule)) {
      if (!matchesAny(rule, value, key in fields)) return false;
    } else if (typeof rule === 'object' && rule !== null) {
      if (!matches(rule as Pattern, value)) return false;
    } else {
      throw new Error(`invalid pattern at "${key}": leaf values must be arrays`);
    }
  }
  return true;
}

function matchesAny(matchers: unknown[], value: unknown, present: boolean): boolean {
  // Absent fields match only {exists: false}.
  if (!present || value === undefined) return matchers.some((m) => isObj(m) && m.exists === false);
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => {
    if (isObj(m) && 'exists' in m) return m.exists === true;
    return values.some((v) => matchOne(m, v));
  });
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function matchOne(m: unknown, v: unknown): boolean {
  if (!isObj(m)) return m === v; // exact string, number, boolean or null
  const [op, arg] = Object.entries(m)[0] ?? [];
  switch (op) {
    case 'prefix':
      if (isObj(arg)) return typeof v === 'string' && v.toLowerCase().startsWith(String(arg['equals-ignore-case']).toLowerCase());
      return typeof v === 'string' && v.startsWith(String(arg));
    case 'suffix':
      if (isObj(arg)) return typeof v === 'string' && v.toLowerCase().endsWith(String(arg['equals-ignore-case']).toLowerCase());
      return typeof v === 'string' && v.endsWith(String(arg));
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && wildcard(String(arg)).test(v);
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.includes(v);
      if (isObj(arg)) return !matchOne(arg, v);
      return v !== arg;
    case 'numeric':
      return typeof v === 'number' && numeric(arg as unknown[], v);
    default:
      throw new Error(`unsupported pattern operator ${op}`);
  }
}

function numeric(spec: unknown[], v: number): boolean {
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const n = Number(spec[i + 1]);
    const ok = op === '=' ? v === n : op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : op === '>=' ? v >= n : false;
    if (!ok) return false;
  }
  return true;
}

function wildcard(p: string): RegExp {
  return new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
