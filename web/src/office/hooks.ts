// The office's data through the query cache; realtime events (session.ts) keep it fresh.
import { useQuery } from '@tanstack/react-query';
import { ApiError } from '../api/http';
import type { Translate } from '../i18n';
import { errorText } from '../ui/format';
import { officeApi, type ApprovalBox, type DingBox } from './api';

export const officeKeys = {
  approval: (id: string) => ['approval', id] as const,
  approvals: (orgId: string, box?: ApprovalBox) => (box ? (['approvals', orgId, box] as const) : (['approvals', orgId] as const)),
  templates: (orgId: string) => ['templates', orgId] as const,
  ding: (id: string) => ['ding', id] as const,
  dings: (orgId: string, box?: DingBox | 'alerts') => (box ? (['dings', orgId, box] as const) : (['dings', orgId] as const)),
};

export function useApproval(id: string | null | undefined) {
  return useQuery({
    queryKey: officeKeys.approval(id ?? ''),
    queryFn: () => officeApi.approval(id!),
    enabled: !!id,
    retry: false,
    staleTime: 30_000,
  });
}

export function useApprovals(orgId: string, box: ApprovalBox) {
  return useQuery({ queryKey: officeKeys.approvals(orgId, box), queryFn: async () => (await officeApi.approvals(orgId, box)).items });
}

export function useTemplates(orgId: string) {
  return useQuery({ queryKey: officeKeys.templates(orgId), queryFn: async () => (await officeApi.templates(orgId)).items, staleTime: 60_000 });
}

export function useDings(orgId: string, box: DingBox) {
  return useQuery({ queryKey: officeKeys.dings(orgId, box), queryFn: async () => (await officeApi.dings(orgId, box)).items });
}

/** The DINGs waiting for my confirmation: the full-screen alert shows them. */
export function useDingAlerts(orgId: string | null) {
  return useQuery({
    queryKey: officeKeys.dings(orgId ?? '', 'alerts'),
    queryFn: async () => (await officeApi.dings(orgId!, 'received', true)).items,
    enabled: !!orgId,
  });
}

/** A 4xx from the office calls says what is wrong (the field, the rule): show it as it is. */
export function officeError(err: unknown, t: Translate): string {
  if (err instanceof ApiError && err.status !== null && err.status >= 400 && err.status < 500 && err.status !== 404 && err.message) {
    return err.message;
  }
  return errorText(err, t);
}
