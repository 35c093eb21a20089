import { queryOptions } from '@tanstack/react-query';
import { api, qs } from '../../../lib/api.ts';
import type { Summary } from '../../../lib/types.ts';

export type { Summary };

export const getSummary = (from: string, to: string) =>
  api.request<Summary>('GET', `/reports/summary${qs({ from, to })}`);

export const summaryQuery = (from: string, to: string) =>
  queryOptions({ queryKey: ['reports', from, to], queryFn: () => getSummary(from, to) });
