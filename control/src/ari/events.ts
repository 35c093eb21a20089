/**
 * ARI event names and channel variables used by the control plane. Strings from Asterisk are
 * named once here, never scattered through the code.
 */
export enum AriEvent {
  StasisStart = 'StasisStart',
  StasisEnd = 'StasisEnd',
  ChannelStateChange = 'ChannelStateChange',
  ChannelDestroyed = 'ChannelDestroyed',
  ChannelHangupRequest = 'ChannelHangupRequest',
  ChannelDtmfReceived = 'ChannelDtmfReceived',
  ChannelEnteredBridge = 'ChannelEnteredBridge',
  ChannelLeftBridge = 'ChannelLeftBridge',
  PlaybackStarted = 'PlaybackStarted',
  PlaybackFinished = 'PlaybackFinished',
  RecordingStarted = 'RecordingStarted',
  RecordingFinished = 'RecordingFinished',
  RecordingFailed = 'RecordingFailed',
  Dial = 'Dial',
  ContactStatusChange = 'ContactStatusChange',
  PeerStatusChange = 'PeerStatusChange',
  EndpointStateChange = 'EndpointStateChange',
}

/** The Stasis application the dialplan (asterisk/config/main/extensions.conf) sends calls to. */
export const DIALPLAN_APP = 'calldock';

/** The connection to Asterisk, as readiness checks and metrics report it. */
export enum AriState {
  Connecting = 'connecting',
  Connected = 'connected',
  Disconnected = 'disconnected',
  Stopped = 'stopped',
}

/** The first Stasis() argument the dialplan passes: where the call came from. */
export enum CallOrigin {
  Trunk = 'trunk',
  WebRtc = 'webrtc',
}

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name?: string; app_data?: string };
  creationtime: string;
  language: string;
  /** Present on Asterisk 22; the id shared by every channel of one call. */
  linkedid?: string;
}

export interface AriEventBase {
  type: string;
  application: string;
  timestamp: string;
  asterisk_id?: string;
}

export interface StasisStartEvent extends AriEventBase {
  type: AriEvent.StasisStart;
  args: string[];
  channel: AriChannel;
  replace_channel?: AriChannel;
}

export type AnyAriEvent = AriEventBase & Record<string, unknown>;
