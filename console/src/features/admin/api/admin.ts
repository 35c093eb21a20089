import { queryOptions } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';

export interface User {
  id: number;
  email: string;
  displayName: string;
  role: string;
  status: string;
  extension: string | null;
  version: number;
}
export interface Queue {
  id: number;
  name: string;
  strategy: string;
  ringTimeoutSeconds: number;
  wrapupSeconds: number;
  maxWaitSeconds: number;
  serviceLevelSeconds: number;
  updatedAt: string;
  version: number;
}
export interface QueueMember {
  userId: number;
  penalty: number;
  displayName?: string;
}
export interface Did {
  id: number;
  number: string;
  description: string | null;
  target: { type: string; id?: number; value?: string } | null;
  version: number;
}
export interface Endpoint {
  id: number;
  kind: string;
  name: string;
  asteriskId: string;
  enabled: boolean;
  userId: number | null;
  transport: string | null;
  host: string | null;
  registration: { state?: string; registered?: boolean; contacts?: unknown[] } & Record<
    string,
    unknown
  >;
  version: number;
}
export interface Hours {
  id: number;
  name: string;
  timezone: string;
  version: number;
}
export interface IvrMenu {
  id: number;
  name: string;
  prompt: string;
  version: number;
}

const list =
  <T>(path: string) =>
  () =>
    api.request<Page<T>>('GET', `${path}${qs({ limit: 100 })}`);

export const usersQuery = () =>
  queryOptions({ queryKey: ['users'], queryFn: list<User>('/users') });
export const invitesQuery = () =>
  queryOptions({
    queryKey: ['invites'],
    queryFn: list<{ id: number; email: string; role: string; status?: string }>('/invites'),
  });
export const queuesQuery = () =>
  queryOptions({ queryKey: ['queues'], queryFn: list<Queue>('/queues') });
export const didsQuery = () => queryOptions({ queryKey: ['dids'], queryFn: list<Did>('/dids') });
export const endpointsQuery = () =>
  queryOptions({ queryKey: ['endpoints'], queryFn: list<Endpoint>('/endpoints') });
export const hoursQuery = () =>
  queryOptions({ queryKey: ['hours'], queryFn: list<Hours>('/hours') });
export const ivrQuery = () =>
  queryOptions({ queryKey: ['ivr-menus'], queryFn: list<IvrMenu>('/ivr-menus') });
export const membersQuery = (queueId: number) =>
  queryOptions({
    queryKey: ['queues', queueId, 'members'],
    queryFn: () =>
      api.request<{ items: QueueMember[] } | QueueMember[]>('GET', `/queues/${queueId}/members`),
  });
