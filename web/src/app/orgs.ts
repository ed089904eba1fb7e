// Teams (orgs), their members and departments, through the query cache.
import { useQuery } from '@tanstack/react-query';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { api } from '../api/endpoints';
import type { Department, Org, OrgMember } from '../api/types';

export function useOrgs() {
  return useQuery({ queryKey: ['orgs'], queryFn: async () => (await api.orgs()).items, staleTime: 60_000 });
}

export function useOrgMembers(orgId: string | null) {
  return useQuery({
    queryKey: ['orgMembers', orgId],
    enabled: !!orgId,
    staleTime: 60_000,
    queryFn: async () => {
      const all: OrgMember[] = [];
      let after: string | undefined;
      for (let page = 0; page < 20; page++) {
        const answer = await api.orgMembers(orgId!, after);
        all.push(...answer.items);
        if (!answer.next_after) break;
        after = answer.next_after;
      }
      return all;
    },
  });
}

export function useDepartments(orgId: string | null) {
  return useQuery<Department[]>({
    queryKey: ['departments', orgId],
    enabled: !!orgId,
    staleTime: 60_000,
    queryFn: async () => (await api.departments(orgId!)).items,
  });
}

/** user id → display name for everyone in a team. */
export function useNames(orgId: string | null): Map<string, string> {
  const { data } = useOrgMembers(orgId);
  return useMemo(() => new Map((data ?? []).map((m) => [m.user_id, m.display_name])), [data]);
}

// ---- the current team ----------------------------------------------------------------------

const ORG_KEY = 'knock.org';
const orgListeners = new Set<() => void>();

function readSelectedOrg(): string | null {
  try {
    return localStorage.getItem(ORG_KEY);
  } catch {
    return null;
  }
}

export function selectOrg(orgId: string): void {
  try {
    localStorage.setItem(ORG_KEY, orgId);
  } catch {
    // storage disabled: selection lasts until reload
  }
  orgListeners.forEach((l) => l());
}

/** The team being looked at: the saved one if still a member, else the first. */
export function useCurrentOrg(): { org: Org | null; orgs: Org[]; loading: boolean; failed: boolean; retry: () => void; select: (id: string) => void } {
  // isPending, not isLoading: offline, the query is paused (not fetching) yet has no answer,
  // and that must not read as "no teams".
  const { data, isPending, isError, refetch } = useOrgs();
  const selected = useSyncExternalStore(
    (l) => {
      orgListeners.add(l);
      return () => orgListeners.delete(l);
    },
    readSelectedOrg,
  );
  const orgs = data ?? [];
  const org = orgs.find((o) => o.id === selected) ?? orgs[0] ?? null;
  const select = useCallback((id: string) => selectOrg(id), []);
  const retry = useCallback(() => void refetch(), [refetch]);
  return { org, orgs, loading: isPending && !isError, failed: isError && !data, retry, select };
}

export function isAdmin(org: Org | null): boolean {
  return org?.role === 'owner' || org?.role === 'admin';
}
