// Names where people read names: institutions and drugs by their ids, through the query cache
// (they rarely change, so they are fetched once per session).
import { useQuery } from '@tanstack/preact-query';
import { allPages, call } from '../lib/api.ts';

const forever = { staleTime: Infinity, gcTime: Infinity } as const;

export function useInstitution(id: string | undefined) {
  return useQuery({ queryKey: ['institution', id], queryFn: () => call('getInstitution', { params: { id: id! } }), enabled: !!id && id !== 'platform', ...forever });
}

export function useInstitutionName(id: string | undefined): string {
  const q = useInstitution(id);
  if (!id) return '—';
  if (id === 'platform') return '平台自动';
  // While loading, a placeholder rather than a raw id; the id only if the name cannot be had.
  return q.data?.name ?? (q.isError ? id : '…');
}

export function useInstitutions(type?: 'clinic' | 'hospital' | 'pharmacy') {
  return useQuery({
    queryKey: ['institutions', type ?? 'all'],
    queryFn: async () => (await allPages((nextToken) => call('listInstitutions', { query: { type, limit: 200, nextToken } }))).items,
    staleTime: 5 * 60_000,
  });
}

export function useDrugs() {
  return useQuery({
    queryKey: ['drugs'],
    queryFn: async () => (await allPages((nextToken) => call('listDrugs', { query: { limit: 200, nextToken } }))).items,
    staleTime: 10 * 60_000,
  });
}

export function useDrugName(): (code: string) => string {
  const drugs = useDrugs();
  return (code) => drugs.data?.find((d) => d.drugCode === code)?.name ?? code;
}
