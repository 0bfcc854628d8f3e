// The CRM adapters this build knows, most specific first. One file per CRM.
import type { CrmAdapter } from '@/lib/adapter';
import { demoCrm } from './demo-crm';
import { dynamics } from './dynamics';
import { hubspot } from './hubspot';
import { salesforce } from './salesforce';
import { zendesk } from './zendesk';
import { zoho } from './zoho';

export const ADAPTERS: readonly CrmAdapter[] = [salesforce, hubspot, dynamics, zendesk, zoho, demoCrm];
