// What the guard and the panel know about the record on screen, as plain data.
import { z } from 'zod';
import {
  Call,
  CallerVerification,
  Consent,
  Customer,
  Role,
  ServiceCategory,
  isoDateTime,
} from './schemas';

// Identifiers an adapter read from the CRM page, already normalized.
export const RecordIdentifiers = z.object({
  crm: z.string().min(1).max(64),
  crmId: z.string().min(1).max(128).nullable(),
  accountNumber: z.string().max(64).nullable().default(null),
  phones: z.array(z.string().max(32)).max(10).default([]),
  emails: z.array(z.string().max(200)).max(10).default([]),
});
export type RecordIdentifiers = z.infer<typeof RecordIdentifiers>;

export const UnknownWhy = z.enum(['loading', 'not_synced', 'not_found', 'signed_out']);
export type UnknownWhy = z.infer<typeof UnknownWhy>;

export const Snapshot = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('known'),
    customer: Customer,
    consents: z.array(Consent),
    call: Call.nullable(),
    verification: CallerVerification.nullable(),
    syncedAt: isoDateTime.nullable(), // last successful sync: how old the data is
  }),
  z.object({ state: z.literal('unknown'), why: UnknownWhy, syncedAt: isoDateTime.nullable() }),
]);
export type Snapshot = z.infer<typeof Snapshot>;
export type KnownSnapshot = Extract<Snapshot, { state: 'known' }>;

// What else the guard knows about the click, besides the customer.
export const ActionContext = z.object({
  role: Role,
  // For marketing: the category of the product offered, when the control says it.
  offeredCategory: ServiceCategory.nullable().default(null),
  // For third-party disclosure: is a confidentiality agreement on file with the recipient?
  confidentialityAgreement: z.boolean().default(false),
  // For campaign launch: the campaign the control names, as the cache knows it.
  campaign: z
    .object({
      id: z.string(),
      name: z.string().max(200).optional(), // for the block dialog: names the campaign
      status: z.enum(['draft', 'submitted', 'approved', 'rejected', 'unknown']),
      scrubbed: z.boolean(),
      usesCpni: z.boolean(),
    })
    .nullable()
    .default(null),
});
export type ActionContext = z.infer<typeof ActionContext>;
export type ActionContextInput = z.input<typeof ActionContext>;
