// Child process of bench/scale.ts: the router's heap in a fresh process, before and after loading
// what routing holds in a warm container that has routed in every district (each district's
// pharmacies, functions/prescriptions/store.ts districtPharmacies). Run with --expose-gc.
import { districtPharmacies } from '../functions/prescriptions/store.ts';

const mb = (bytes: number) => bytes / 1024 / 1024;
const heapAfterGc = () => {
  globalThis.gc?.();
  return mb(process.memoryUsage().heapUsed);
};

process.once('message', async (districts: string[]) => {
  await import('../functions/prescriptions/router.ts');
  const baselineMb = heapAfterGc();
  let pharmacies = 0;
  for (const d of districts) pharmacies += (await districtPharmacies(d)).length;
  const loadedMb = heapAfterGc();
  process.send!({ baselineMb, loadedMb, rssMb: mb(process.memoryUsage().rss), districts: districts.length, pharmacies }, undefined, {}, () => process.exit(0));
});
