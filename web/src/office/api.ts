// The office calls: approval templates, approvals and DINGs, typed by the server's contract.
import { http } from '../api/http';
import type { Schemas } from '../api/types';

export type Template = Schemas['TemplateOut'];
export type TemplateIn = Schemas['TemplateIn'];
export type FormField = Schemas['FormField'];
export type FieldType = FormField['type'];
export type FlowStep = Schemas['FlowStep'];
export type ApproverSpec = Schemas['ApproverSpec'];
export type Approval = Schemas['ApprovalOut'];
export type ApprovalStep = Schemas['StepOut'];
export type ApprovalBox = 'to_approve' | 'submitted' | 'cc';
export type Ding = Schemas['DingOut'];
export type DingRecipient = Schemas['DingRecipientOut'];
export type DingBox = 'received' | 'sent';

const enc = encodeURIComponent;

export const officeApi = {
  templates: (orgId: string) => http<Schemas['TemplateList']>(`/orgs/${enc(orgId)}/approval-templates`),
  createTemplate: (orgId: string, body: TemplateIn) => http<Template>(`/orgs/${enc(orgId)}/approval-templates`, { method: 'POST', body }),
  updateTemplate: (id: string, body: TemplateIn) => http<Template>(`/approval-templates/${enc(id)}`, { method: 'PUT', body }),
  archiveTemplate: (id: string) => http<void>(`/approval-templates/${enc(id)}`, { method: 'DELETE' }),

  submit: (orgId: string, body: Schemas['SubmitIn']) => http<Approval>(`/orgs/${enc(orgId)}/approvals`, { method: 'POST', body }),
  approvals: (orgId: string, box: ApprovalBox, before?: string) =>
    http<Schemas['ApprovalPage']>(`/orgs/${enc(orgId)}/approvals`, { query: { box, before, limit: 50 } }),
  approval: (id: string) => http<Approval>(`/approvals/${enc(id)}`),
  approve: (id: string, comment: string) =>
    http<Approval>(`/approvals/${enc(id)}/approve`, { method: 'POST', body: { comment } satisfies Schemas['DecisionIn'] }),
  reject: (id: string, comment: string) =>
    http<Approval>(`/approvals/${enc(id)}/reject`, { method: 'POST', body: { comment } satisfies Schemas['RejectIn'] }),
  withdraw: (id: string) => http<Approval>(`/approvals/${enc(id)}/withdraw`, { method: 'POST' }),
  resubmit: (id: string) => http<Approval>(`/approvals/${enc(id)}/resubmit`, { method: 'POST', body: {} }),

  sendDing: (orgId: string, body: Schemas['CreateDingIn']) => http<Ding>(`/orgs/${enc(orgId)}/dings`, { method: 'POST', body }),
  dings: (orgId: string, box: DingBox, unconfirmed?: boolean) =>
    http<Schemas['DingPage']>(`/orgs/${enc(orgId)}/dings`, { query: { box, unconfirmed: unconfirmed === undefined ? undefined : String(unconfirmed), limit: 50 } }),
  ding: (id: string) => http<Ding>(`/dings/${enc(id)}`),
  confirmDing: (id: string) => http<Ding>(`/dings/${enc(id)}/confirm`, { method: 'POST' }),
  reding: (id: string) => http<Ding>(`/dings/${enc(id)}/reding`, { method: 'POST', body: {} }),
};
