/**
 * Helpdesk over REST: contacts (CRUD, CSV import/export, screen-pop), tickets (list with
 * filters and saved views, create by hand or from a call, voicemail, chat or offline form,
 * change, thread, history, attachments, merge, bulk), SLA policies, custom fields, reports.
 *
 * Roles: helpdesk, supervisor and tenant admin work tickets. Agents read tickets and contacts
 * (screen-pop) and make tickets from the calls they took; they do not reply, change tickets
 * or open attachments. SLA policies and custom fields are the tenant admin's.
 */
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { expectedVersion, setEtag } from '../../lib/concurrency.ts';
import { AppError } from '../../lib/errors.ts';
import { listQuery, listResponse } from '../../lib/pagination.ts';
import { tenantOf } from '../../plugins/auth.ts';
import { IdParams } from '../routing/common.ts';
import * as attachments from './attachments.ts';
import * as contacts from './contacts.ts';
import { ADMIN_ROLES, READ_ROLES, REPORT_ROLES, WORK_ROLES, helpdeskCtx } from './context.ts';
import * as reports from './reports.ts';
import {
  Attachment,
  BulkBody,
  Contact,
  ContactCreate,
  ContactImportJson,
  ContactList,
  ContactListQuery,
  ContactPatch,
  FromCallBody,
  FromChatBody,
  FromVoicemailBody,
  HistoryEntry,
  ImportResult,
  Message,
  MessageCreate,
  MergeBody,
  OfflineFormBody,
  Report,
  ReportQuery,
  ScreenPop,
  SlaPolicy,
  SlaPolicyCreate,
  SlaPolicyPatch,
  Ticket,
  TicketCreate,
  TicketDetail,
  TicketField,
  TicketFieldCreate,
  TicketFieldPatch,
  TicketList,
  TicketListQuery,
  TicketPatch,
  View,
  ViewCreate,
  ViewPatch,
} from './schemas.ts';
import * as settings from './settings.ts';
import * as sla from './sla.ts';
import * as tickets from './tickets.ts';

const CSV_LIMIT = 5 * 1024 * 1024;
const PageQuery = listQuery({});
const AttachmentParams = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  attachmentId: Type.Integer({ minimum: 1 }),
});
const NoContent = { 204: Type.Null() };
const csvReply = { 200: Type.String({ description: 'CSV (text/csv)' }) };

export const helpdeskRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Encapsulated here: only these routes read multipart and CSV bodies.
  await app.register(multipart, {
    limits: { fileSize: app.config.helpdesk.attachmentMaxBytes, files: 1, fields: 5, parts: 6 },
  });
  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: CSV_LIMIT },
    (_req, body, done) => done(null, body),
  );

  // ---------------------------------------------------------------- contacts
  const ctag = ['contacts'];
  app.get(
    '/contacts',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ctag,
        summary: 'List contacts',
        querystring: ContactListQuery,
        response: { 200: ContactList },
      },
    },
    async (request) => contacts.listContacts(app.db, tenantOf(request), request.query),
  );
  app.post(
    '/contacts',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ctag,
        summary: 'Create a contact',
        body: ContactCreate,
        response: { 201: Contact },
      },
    },
    async (request, reply) => {
      const contact = await contacts.createContact(helpdeskCtx(app, request), request.body);
      setEtag(reply, contact.version);
      return reply.code(201).header('location', `/api/v1/contacts/${contact.id}`).send(contact);
    },
  );
  app.post(
    '/contacts/import',
    {
      config: { auth: WORK_ROLES },
      bodyLimit: CSV_LIMIT,
      schema: {
        tags: ctag,
        summary: 'Import contacts from CSV',
        description:
          'Send the CSV as the body (`text/csv`) or as `{"csv": "..."}`. Columns by header: first_name, last_name, company, ' +
          'phones, emails, notes (several phones or emails separated by `;`). Good rows are kept; bad rows are listed by line ' +
          '(the header is line 1) with the fields at fault.',
        body: {
          content: {
            'application/json': { schema: ContactImportJson },
            'text/csv': { schema: Type.String({ maxLength: CSV_LIMIT }) },
          },
        },
        response: { 200: ImportResult },
      },
    },
    async (request) => {
      const body = request.body as unknown;
      const text = typeof body === 'string' ? body : (body as { csv: string }).csv;
      return contacts.importContacts(helpdeskCtx(app, request), text);
    },
  );
  app.get(
    '/contacts/export',
    {
      config: { auth: REPORT_ROLES },
      schema: {
        tags: ctag,
        summary: 'Export all contacts as CSV',
        produces: ['text/csv'],
        response: csvReply,
      },
    },
    async (request, reply) => {
      const csv = await contacts.exportContacts(app.db, tenantOf(request));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="contacts.csv"')
        .send(csv);
    },
  );
  app.get(
    '/contacts/:id',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ctag,
        summary: 'Get a contact',
        params: IdParams,
        response: { 200: Contact },
      },
    },
    async (request, reply) => {
      const contact = await contacts.getContact(app.db, tenantOf(request), request.params.id);
      setEtag(reply, contact.version);
      return contact;
    },
  );
  app.patch(
    '/contacts/:id',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ctag,
        summary: 'Change a contact (phones and emails are replaced when given)',
        params: IdParams,
        body: ContactPatch,
        response: { 200: Contact },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const contact = await contacts.updateContact(
        helpdeskCtx(app, request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, contact.version);
      return contact;
    },
  );
  app.delete(
    '/contacts/:id',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ctag,
        summary: 'Delete a contact (its tickets stay, without requester)',
        params: IdParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await contacts.deleteContact(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request),
      );
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/screen-pop',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ctag,
        summary:
          'Who is calling: contacts matching a phone number or email, with recent tickets and calls',
        description:
          'For the console on an incoming call or chat. Several contacts may share a number: all are listed, most recently changed first.',
        querystring: Type.Object(
          {
            ...listQuery({}).properties,
            ...{
              phone: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' })),
              email: Type.Optional(Type.String({ maxLength: 254 })),
            },
          },
          { additionalProperties: false },
        ),
        response: { 200: ScreenPop },
      },
    },
    async (request) => {
      const { phone, email } = request.query;
      if (!phone && !email)
        throw new AppError('VALIDATION_FAILED', 'Invalid query', 400, [
          { field: 'phone', message: 'give a phone number or an email' },
        ]);
      const tenantId = tenantOf(request);
      const matches = await contacts.contactsMatching(app.db, tenantId, { phone, email });
      const items = [];
      for (const contact of matches.slice(0, 5)) {
        const recent = await tickets.listTickets(app.db, tenantId, 0, {
          contactId: contact.id,
          sort: '-updatedAt',
          limit: 5,
        });
        const numbers = [
          ...new Set([...contact.phones.map((p) => p.number), ...(phone ? [phone] : [])]),
        ];
        items.push({
          contact,
          recentTickets: recent.items,
          recentCalls: await contacts.recentCalls(app.db, tenantId, numbers),
        });
      }
      return { items, nextCursor: null };
    },
  );

  // ---------------------------------------------------------------- tickets
  const ttag = ['tickets'];
  app.get(
    '/tickets',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'List tickets',
        description:
          'Filters combine with AND; `viewId` starts from one of your saved views, and other filters given override its own.',
        querystring: TicketListQuery,
        response: { 200: TicketList },
      },
    },
    async (request) =>
      tickets.listTickets(app.db, tenantOf(request), request.auth!.userId, request.query),
  );
  app.post(
    '/tickets',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Create a ticket',
        body: TicketCreate,
        response: { 201: TicketDetail },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.createTicket(helpdeskCtx(app, request), request.body);
      setEtag(reply, ticket.version);
      return reply.code(201).header('location', `/api/v1/tickets/${ticket.id}`).send(ticket);
    },
  );
  const created = (
    reply: import('fastify').FastifyReply,
    ticket: { id: number; version: number },
  ) => {
    setEtag(reply, ticket.version);
    return reply.code(201).header('location', `/api/v1/tickets/${ticket.id}`);
  };
  app.post(
    '/tickets/from-call',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'Create a ticket from a call (CDR row)',
        description:
          'Agents: only from calls they took. The caller is matched to a contact (or one is made); the ticket links to the call and the call finds it (`GET /tickets?sourceKind=call&sourceId=`).',
        body: FromCallBody,
        response: { 201: TicketDetail },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.ticketFromCall(helpdeskCtx(app, request), request.body);
      return created(reply, ticket).send(ticket);
    },
  );
  app.post(
    '/tickets/from-voicemail',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Create a ticket from a voicemail',
        body: FromVoicemailBody,
        response: { 201: TicketDetail },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.ticketFromVoicemail(helpdeskCtx(app, request), request.body);
      return created(reply, ticket).send(ticket);
    },
  );
  app.post(
    '/tickets/from-chat',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Create a ticket from a chat transcript',
        body: FromChatBody,
        response: { 201: TicketDetail },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.ticketFromChat(helpdeskCtx(app, request), request.body);
      return created(reply, ticket).send(ticket);
    },
  );
  app.post(
    '/tickets/from-offline-form',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Create a ticket from a widget offline form',
        description: 'What the widget’s public form does, for staff entering one by hand.',
        body: OfflineFormBody,
        response: { 201: TicketDetail },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.ticketFromOfflineForm(helpdeskCtx(app, request), request.body);
      return created(reply, ticket).send(ticket);
    },
  );
  app.post(
    '/tickets/bulk',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Assign or close many tickets (all or none)',
        body: BulkBody,
        response: { 200: listResponse(Ticket) },
      },
    },
    async (request) => ({
      items: await tickets.bulkChange(helpdeskCtx(app, request), request.body),
      nextCursor: null,
    }),
  );
  app.get(
    '/tickets/:id',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'Get a ticket with its links',
        params: IdParams,
        response: { 200: TicketDetail },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.getTicket(app.db, tenantOf(request), request.params.id);
      setEtag(reply, ticket.version);
      return ticket;
    },
  );
  app.patch(
    '/tickets/:id',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Change a ticket',
        params: IdParams,
        body: TicketPatch,
        response: { 200: TicketDetail },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const ticket = await tickets.updateTicket(
        helpdeskCtx(app, request),
        request.params.id,
        version,
        request.body,
      );
      setEtag(reply, ticket.version);
      return ticket;
    },
  );
  app.get(
    '/tickets/:id/messages',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'The thread: public replies and internal notes',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: listResponse(Message) },
      },
    },
    async (request) =>
      tickets.listMessages(app.db, tenantOf(request), request.params.id, request.query),
  );
  app.post(
    '/tickets/:id/messages',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Reply or add an internal note',
        params: IdParams,
        body: MessageCreate,
        response: { 201: Message },
      },
    },
    async (request, reply) => {
      const message = await tickets.addMessage(
        helpdeskCtx(app, request),
        request.params.id,
        request.body,
      );
      return reply.code(201).send(message);
    },
  );
  app.get(
    '/tickets/:id/history',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'Every change: who, what, when',
        params: IdParams,
        querystring: PageQuery,
        response: { 200: listResponse(HistoryEntry) },
      },
    },
    async (request) =>
      tickets.listHistory(app.db, tenantOf(request), request.params.id, request.query),
  );
  app.post(
    '/tickets/:id/merge',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Merge this ticket into another',
        description:
          'Messages and attachments move to the target, links are kept on both, and this ticket is closed as merged.',
        params: IdParams,
        body: MergeBody,
        response: { 200: TicketDetail },
      },
    },
    async (request) =>
      tickets.mergeTickets(
        helpdeskCtx(app, request),
        request.params.id,
        request.body.targetTicketId,
      ),
  );

  // ---------------------------------------------------------------- attachments
  const { attachmentMaxBytes, tenantQuotaBytes } = app.config.helpdesk;
  app.get(
    '/tickets/:id/attachments',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'A ticket’s attachments',
        params: IdParams,
        response: { 200: listResponse(Attachment) },
      },
    },
    async (request) => ({
      items: await attachments.listAttachments(app.db, tenantOf(request), request.params.id),
      nextCursor: null,
    }),
  );
  app.post(
    '/tickets/:id/attachments',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Upload an attachment (multipart/form-data, one file)',
        description:
          `One file per request in a part named \`file\`, at most ${attachmentMaxBytes} bytes (413); the tenant's attachments ` +
          `together at most ${tenantQuotaBytes} bytes (413 QUOTA_EXCEEDED). The type is read from the content: images, PDF, ` +
          'text, Office documents and WAV; anything else, or a name that claims another type, is 415. A refused upload stores nothing.',
        consumes: ['multipart/form-data'],
        params: IdParams,
        response: { 201: Attachment },
      },
    },
    async (request, reply) => {
      const ctx = helpdeskCtx(app, request);
      await attachments.assertTicket(app.db, ctx.tenantId, request.params.id);
      if (!request.isMultipart()) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data', 415, [
          { field: 'file', message: 'is missing' },
        ]);
      }
      const file = await request.file();
      if (!file)
        throw new AppError('VALIDATION_FAILED', 'Invalid upload', 400, [
          { field: 'file', message: 'is missing' },
        ]);
      const attachment = await attachments.storeAttachment(
        ctx,
        app.config.helpdesk,
        request.params.id,
        {
          fileName: file.filename,
          stream: file.file,
          truncated: () => file.file.truncated,
        },
      );
      return reply.code(201).send(attachment);
    },
  );
  app.get(
    '/tickets/:id/attachments/:attachmentId',
    {
      config: { auth: WORK_ROLES },
      schema: {
        tags: ttag,
        summary: 'Download an attachment',
        params: AttachmentParams,
        produces: ['application/octet-stream'],
        response: { 200: Type.String({ description: 'The file', format: 'binary' }) },
      },
    },
    async (request, reply) => {
      const { id, attachmentId } = request.params;
      const { attachment, size, stream } = await attachments.openAttachment(
        app.db,
        app.config.helpdesk,
        tenantOf(request),
        id,
        attachmentId,
      );
      return reply
        .type(attachment.contentType)
        .header('content-length', size)
        .header('x-content-type-options', 'nosniff')
        .header(
          'content-disposition',
          `attachment; filename*=UTF-8''${encodeURIComponent(attachment.fileName)}`,
        )
        .send(stream as never);
    },
  );

  // ---------------------------------------------------------------- SLA policies
  const stag = ['helpdesk settings'];
  app.get(
    '/sla-policies',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: stag,
        summary: 'SLA policies (one per priority)',
        response: { 200: listResponse(SlaPolicy) },
      },
    },
    async (request) => ({
      items: await sla.listPolicies(app.db, tenantOf(request)),
      nextCursor: null,
    }),
  );
  app.post(
    '/sla-policies',
    {
      config: { auth: ADMIN_ROLES },
      schema: {
        tags: stag,
        summary: 'Create the SLA policy of a priority',
        description:
          'Targets are business-hours minutes on the schedule named; they apply to tickets created from then on.',
        body: SlaPolicyCreate,
        response: { 201: SlaPolicy },
      },
    },
    async (request, reply) => {
      const policy = await sla.createPolicy(helpdeskCtx(app, request), request.body);
      setEtag(reply, policy.version);
      return reply.code(201).send(policy);
    },
  );
  app.get(
    '/sla-policies/:id',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: stag,
        summary: 'Get an SLA policy',
        params: IdParams,
        response: { 200: SlaPolicy },
      },
    },
    async (request, reply) => {
      const policy = await sla.getPolicy(app.db, tenantOf(request), request.params.id);
      setEtag(reply, policy.version);
      return policy;
    },
  );
  app.patch(
    '/sla-policies/:id',
    {
      config: { auth: ADMIN_ROLES },
      schema: {
        tags: stag,
        summary: 'Change an SLA policy',
        params: IdParams,
        body: SlaPolicyPatch,
        response: { 200: SlaPolicy },
      },
    },
    async (request, reply) => {
      const policy = await sla.updatePolicy(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request, request.body.version),
        request.body,
      );
      setEtag(reply, policy.version);
      return policy;
    },
  );
  app.delete(
    '/sla-policies/:id',
    {
      config: { auth: ADMIN_ROLES },
      schema: {
        tags: stag,
        summary: 'Delete an SLA policy',
        params: IdParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await sla.deletePolicy(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request),
      );
      return reply.code(204).send(null);
    },
  );

  // ---------------------------------------------------------------- custom fields
  app.get(
    '/ticket-fields',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: stag,
        summary: 'Custom ticket fields',
        response: { 200: listResponse(TicketField) },
      },
    },
    async (request) => ({
      items: await settings.listFields(app.db, tenantOf(request)),
      nextCursor: null,
    }),
  );
  app.post(
    '/ticket-fields',
    {
      config: { auth: ADMIN_ROLES },
      schema: {
        tags: stag,
        summary: 'Define a custom ticket field',
        body: TicketFieldCreate,
        response: { 201: TicketField },
      },
    },
    async (request, reply) => {
      const field = await settings.createField(helpdeskCtx(app, request), request.body);
      setEtag(reply, field.version);
      return reply.code(201).send(field);
    },
  );
  app.patch(
    '/ticket-fields/:id',
    {
      config: { auth: ADMIN_ROLES },
      schema: {
        tags: stag,
        summary: 'Change a custom field (its key and type stay)',
        params: IdParams,
        body: TicketFieldPatch,
        response: { 200: TicketField },
      },
    },
    async (request, reply) => {
      const field = await settings.updateField(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request, request.body.version),
        request.body,
      );
      setEtag(reply, field.version);
      return field;
    },
  );
  app.delete(
    '/ticket-fields/:id',
    {
      config: { auth: ADMIN_ROLES },
      schema: {
        tags: stag,
        summary: 'Delete a custom field',
        params: IdParams,
        response: NoContent,
      },
    },
    async (request, reply) => {
      await settings.deleteField(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request),
      );
      return reply.code(204).send(null);
    },
  );

  // ---------------------------------------------------------------- saved views (per user)
  app.get(
    '/ticket-views',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'Your saved ticket views',
        response: { 200: listResponse(View) },
      },
    },
    async (request) => ({
      items: await settings.listViews(helpdeskCtx(app, request)),
      nextCursor: null,
    }),
  );
  app.post(
    '/ticket-views',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'Save a ticket view',
        body: ViewCreate,
        response: { 201: View },
      },
    },
    async (request, reply) => {
      const view = await settings.createView(helpdeskCtx(app, request), request.body);
      setEtag(reply, view.version);
      return reply.code(201).send(view);
    },
  );
  app.patch(
    '/ticket-views/:id',
    {
      config: { auth: READ_ROLES },
      schema: {
        tags: ttag,
        summary: 'Change a saved view',
        params: IdParams,
        body: ViewPatch,
        response: { 200: View },
      },
    },
    async (request, reply) => {
      const view = await settings.updateView(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request, request.body.version),
        request.body,
      );
      setEtag(reply, view.version);
      return view;
    },
  );
  app.delete(
    '/ticket-views/:id',
    {
      config: { auth: READ_ROLES },
      schema: { tags: ttag, summary: 'Delete a saved view', params: IdParams, response: NoContent },
    },
    async (request, reply) => {
      await settings.deleteView(
        helpdeskCtx(app, request),
        request.params.id,
        expectedVersion(request),
      );
      return reply.code(204).send(null);
    },
  );

  // ---------------------------------------------------------------- reports
  const rtag = ['reports'];
  app.get(
    '/reports/tickets',
    {
      config: { auth: REPORT_ROLES },
      schema: {
        tags: rtag,
        summary: 'Ticket metrics for a range [from, to)',
        querystring: ReportQuery,
        response: { 200: Report },
      },
    },
    async (request) =>
      reports.ticketReport(app.db, tenantOf(request), request.query.from, request.query.to),
  );
  app.get(
    '/reports/tickets/export',
    {
      config: { auth: REPORT_ROLES },
      schema: {
        tags: rtag,
        summary: 'Ticket metrics as CSV',
        querystring: ReportQuery,
        produces: ['text/csv'],
        response: csvReply,
      },
    },
    async (request, reply) => {
      const report = await reports.ticketReport(
        app.db,
        tenantOf(request),
        request.query.from,
        request.query.to,
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="ticket-report.csv"')
        .send(reports.reportCsv(report));
    },
  );
};
