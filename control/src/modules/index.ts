/**
 * Every feature module's routes, mounted under /api/v1 by app.ts. Add a module here.
 */
import type { FastifyPluginAsync } from 'fastify';
import { agentRoutes } from './agents/routes.ts';
import { auditLogRoutes } from './audit-log/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { callRoutes } from './calls/routes.ts';
import { callControlRoutes } from './calls/call-control-routes.ts';
import { callbackRoutes } from './calls/callback-routes.ts';
import { didRoutes } from './dids/routes.ts';
import { endpointRoutes } from './endpoints/routes.ts';
import { helpdeskRoutes } from './helpdesk/routes.ts';
import { hoursRoutes } from './hours/routes.ts';
import { inviteRoutes } from './invites/routes.ts';
import { ivrRoutes } from './ivr/routes.ts';
import { queueRoutes } from './queues/routes.ts';
import { recordingRoutes } from './recordings/routes.ts';
import { reportRoutes } from './reports/routes.ts';
import { securityRoutes } from './security/routes.ts';
import { softphoneRoutes } from './softphone/routes.ts';
import { tenantRoutes } from './tenants/routes.ts';
import { userRoutes } from './users/routes.ts';
import { voicemailRoutes } from './voicemail/routes.ts';
import { widgetRoutes } from './widgets/routes.ts';
import { chatRoutes } from './chat/routes.ts';

export const apiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(authRoutes);
  await app.register(tenantRoutes);
  await app.register(userRoutes);
  await app.register(inviteRoutes);
  await app.register(auditLogRoutes);
  await app.register(endpointRoutes);
  await app.register(hoursRoutes);
  await app.register(didRoutes);
  await app.register(queueRoutes);
  await app.register(ivrRoutes);
  await app.register(agentRoutes);
  await app.register(callRoutes);
  await app.register(voicemailRoutes);
  await app.register(recordingRoutes);
  await app.register(callControlRoutes);
  await app.register(callbackRoutes);
  await app.register(securityRoutes);
  await app.register(widgetRoutes);
  await app.register(chatRoutes);
  await app.register(helpdeskRoutes);
  await app.register(softphoneRoutes);
  await app.register(reportRoutes);
};
