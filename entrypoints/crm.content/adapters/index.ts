// The CRM adapters this build knows, most specific first. One file per CRM.
import type { CrmAdapter } from '@/lib/adapter';
import { demoCrm } from './demo-crm';

export const ADAPTERS: readonly CrmAdapter[] = [demoCrm];
