/** Shapes of the API's answers that more than one feature reads. */

export interface Agent {
  userId: number;
  displayName: string;
  extension: string | null;
  hasPhone: boolean;
  status: string;
  reason: string | null;
  since: string;
  callId: string | null;
  wrapUpUntil: string | null;
  callsAnswered: number;
}

export interface LiveCall {
  callId: string;
  status: string;
  from: string;
  to: string;
  queueId: number | null;
  agentUserId: number | null;
  startedAt: string;
  answeredAt: string | null;
  onHold: boolean;
  agentMuted: boolean;
}

export interface CdrRow {
  id: number;
  linkedid: string;
  direction: string;
  channelKind: string;
  state: string;
  fromNumber: string | null;
  toNumber: string | null;
  didId: number | null;
  queueId: number | null;
  agentUserId: number | null;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  waitMs: number;
  talkMs: number;
  holdMs: number;
  hangupCause: string | null;
  hangupSide: string | null;
  disposition: string | null;
  notes: string | null;
  recordingPath: string | null;
}

export interface QueueFigures {
  queueId: number;
  offered: number;
  answered: number;
  abandoned: number;
  answeredWithinSl: number;
  asaMs: number;
  longestWaitMs: number;
}

export interface Summary {
  from: string;
  to: string;
  serviceLevelSeconds: number;
  totals: {
    offered: number;
    answered: number;
    abandoned: number;
    answeredWithinSl: number;
    asaMs: number;
    ahtMs: number;
    serviceLevelPct: number | null;
  };
  hours: Array<{
    hour: string;
    offered: number;
    answered: number;
    abandoned: number;
    answeredWithinSl: number;
  }>;
  queues: QueueFigures[];
  agents: Array<{
    userId: number;
    displayName: string;
    answered: number;
    talkMs: number;
    ahtMs: number;
  }>;
}
