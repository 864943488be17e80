// Province configs: one JSON file per province in this folder, validated with zod. Adding a file
// adds a stack (infra/bin/app.ts) with no other change.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionCatalog } from '../../functions/catalog.ts';
import { provinceConfig, type ProvinceConfig } from '../../schemas/province.ts';

const dir = import.meta.dirname;

export function parseProvinceFile(file: string, text: string): ProvinceConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const invalid = (issues: Array<{ path: PropertyKey[]; message: string }>) =>
    new Error(`${file}: invalid province config\n${issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  const parsed = provinceConfig.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error.issues);
  // Names checked here, not in the schema: the functions' catalog is the stack's to know.
  const unknown = Object.keys(parsed.data.capacity.reservedConcurrency ?? {}).filter((name) => !(name in functionCatalog));
  if (unknown.length) throw invalid([{ path: ['capacity', 'reservedConcurrency'], message: `no function ${unknown.join(', ')} in functions/catalog.ts` }]);
  const expected = file.replace(/^.*\//, '').replace(/\.json$/, '');
  if (parsed.data.code !== expected) throw new Error(`${file}: code "${parsed.data.code}" must match the file name "${expected}.json"`);
  return parsed.data;
}

export function loadProvinces(folder = dir): ProvinceConfig[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseProvinceFile(join(folder, f), readFileSync(join(folder, f), 'utf8')));
}

export function loadProvince(code: string, folder = dir): ProvinceConfig {
  const found = loadProvinces(folder).find((p) => p.code === code);
  if (!found) throw new Error(`no province config ${code}.json in ${folder}`);
  return found;
}
