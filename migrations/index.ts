/**
 * Every migration, in order. Static imports (not a folder scan) so the same list loads under
 * tsx, vitest and a bundler alike; a test checks that no file in this folder is missing here.
 */
import type { Migration } from 'kysely';

import * as m0001 from './0001_create_tenants.ts';
import * as m0002 from './0002_create_users.ts';
import * as m0003 from './0003_create_refresh_tokens.ts';
import * as m0004 from './0004_create_invites.ts';
import * as m0005 from './0005_create_sip_endpoints.ts';
import * as m0006 from './0006_create_business_hours.ts';
import * as m0007 from './0007_create_holidays.ts';
import * as m0008 from './0008_create_ivr_menus.ts';
import * as m0009 from './0009_create_ivr_options.ts';
import * as m0010 from './0010_create_queues.ts';
import * as m0011 from './0011_create_queue_members.ts';
import * as m0012 from './0012_create_dids.ts';
import * as m0013 from './0013_create_calls.ts';
import * as m0014 from './0014_create_call_events.ts';
import * as m0015 from './0015_create_audit_log.ts';
import * as m0016 from './0016_create_signing_keys.ts';
import * as m0017 from './0017_create_idempotency_keys.ts';
import * as m0030 from './0030_add_sip_endpoints_transport_contact.ts';
import * as m0050 from './0050_create_agent_state_log.ts';
import * as m0051 from './0051_unique_agent_state_change.ts';
import * as m0052 from './0052_add_did_caller_priority.ts';
import * as m0060 from './0060_create_voicemails.ts';
import * as m0080 from './0080_add_dids_tenant_number_index.ts';
import * as m0090 from './0090_add_queue_callback_settings.ts';
import * as m0091 from './0091_create_callbacks.ts';
import * as m0092 from './0092_add_tenant_dial_rules.ts';
import * as m0150 from './0150_create_security_blocks.ts';
import * as m0200 from './0200_create_contacts.ts';
import * as m0201 from './0201_create_contact_phones.ts';
import * as m0202 from './0202_create_contact_emails.ts';
import * as m0203 from './0203_create_sla_policies.ts';
import * as m0204 from './0204_create_ticket_fields.ts';
import * as m0205 from './0205_create_tickets.ts';
import * as m0206 from './0206_create_ticket_messages.ts';
import * as m0207 from './0207_create_ticket_history.ts';
import * as m0208 from './0208_create_ticket_links.ts';
import * as m0209 from './0209_create_ticket_attachments.ts';
import * as m0210 from './0210_create_ticket_views.ts';
import * as m0300 from './0300_create_widgets.ts';
import * as m0301 from './0301_create_widget_call_tickets.ts';
import * as m0302 from './0302_create_rate_limit_hits.ts';
import * as m0303 from './0303_add_calls_channel_kind_web.ts';
import * as m0304 from './0304_add_calls_web_visitor.ts';
import * as m0305 from './0305_create_offline_messages.ts';
import * as m0306 from './0306_create_chats.ts';
import * as m0307 from './0307_create_chat_messages.ts';
import * as m0308 from './0308_add_tenants_chat_capacity.ts';

export const migrations: Record<string, Migration> = {
  '0001_create_tenants': m0001,
  '0002_create_users': m0002,
  '0003_create_refresh_tokens': m0003,
  '0004_create_invites': m0004,
  '0005_create_sip_endpoints': m0005,
  '0006_create_business_hours': m0006,
  '0007_create_holidays': m0007,
  '0008_create_ivr_menus': m0008,
  '0009_create_ivr_options': m0009,
  '0010_create_queues': m0010,
  '0011_create_queue_members': m0011,
  '0012_create_dids': m0012,
  '0013_create_calls': m0013,
  '0014_create_call_events': m0014,
  '0015_create_audit_log': m0015,
  '0016_create_signing_keys': m0016,
  '0017_create_idempotency_keys': m0017,
  '0030_add_sip_endpoints_transport_contact': m0030,
  '0050_create_agent_state_log': m0050,
  '0051_unique_agent_state_change': m0051,
  '0052_add_did_caller_priority': m0052,
  '0060_create_voicemails': m0060,
  '0080_add_dids_tenant_number_index': m0080,
  '0090_add_queue_callback_settings': m0090,
  '0091_create_callbacks': m0091,
  '0092_add_tenant_dial_rules': m0092,
  '0150_create_security_blocks': m0150,
  '0200_create_contacts': m0200,
  '0201_create_contact_phones': m0201,
  '0202_create_contact_emails': m0202,
  '0203_create_sla_policies': m0203,
  '0204_create_ticket_fields': m0204,
  '0205_create_tickets': m0205,
  '0206_create_ticket_messages': m0206,
  '0207_create_ticket_history': m0207,
  '0208_create_ticket_links': m0208,
  '0209_create_ticket_attachments': m0209,
  '0210_create_ticket_views': m0210,
  '0300_create_widgets': m0300,
  '0301_create_widget_call_tickets': m0301,
  '0302_create_rate_limit_hits': m0302,
  '0303_add_calls_channel_kind_web': m0303,
  '0304_add_calls_web_visitor': m0304,
  '0305_create_offline_messages': m0305,
  '0306_create_chats': m0306,
  '0307_create_chat_messages': m0307,
  '0308_add_tenants_chat_capacity': m0308,
};
