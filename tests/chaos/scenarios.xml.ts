/**
 * The chaos suite's SIPp scenarios, written out with the timings of each run.
 *
 * customer: calls the DID through the chaos trunk (picked by the X-Calldock-Chaos header) from
 *   +1999<prefix><call number>, logs when the INVITE leaves, takes the answer (the engine answers
 *   queued callers to play music on hold), then waits for the PBX to hang up — it never hangs up
 *   itself, so a customer whose call is lost shows up as a SIPp failure (no BYE in time).
 * agent: every simulated agent's phone. Rings for `ringMs` (a CANCEL in that time ends the
 *   offer), answers, talks for `talkMs` and hangs up; a BYE from the PBX before that is taken too.
 *   Logs rang / cancelled / answered / released (PBX hung up) / hungup (the agent did), each with
 *   the caller's number and the agent's endpoint, so every CDR can be checked against it.
 */

export const CHAOS_HEADER = 'X-Calldock-Chaos';

/** The body headers and SDP of an offer or answer: one G.711 µ-law stream (SIPp sends no RTP). */
const offer = (origin: string) => `      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=${origin} 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000`;

/** 200 OK to the request just received (a BYE): its own headers sent back. */
const OK_TO_REQUEST = `<send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>`;

export function customerScenario(): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="calldock-chaos-customer">
  <nop>
    <action>
      <gettimeofday assign_to="sec,usec" />
      <log message="sent [call_number] [$sec] [$usec]" />
    </action>
  </nop>
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Chaos customer" <sip:+1999[prefix][call_number]@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:+1999[prefix][call_number]@[local_ip]:[local_port]>
      Max-Forwards: 70
      ${CHAOS_HEADER}: yes
${offer('customer')}
    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
  <recv response="200" rrs="true" />
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Chaos customer" <sip:+1999[prefix][call_number]@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv request="BYE" />
  ${OK_TO_REQUEST}
  <nop>
    <action>
      <log message="ended [call_number]" />
    </action>
  </nop>
</scenario>
`;
}

export function agentScenario(ringMs: number, talkMs: number): string {
  const response = (status: string, extra = '') => `
  <send${status.startsWith('200 OK') && extra ? ' retrans="500"' : ''}>
    <![CDATA[
      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]a[call_number]
      [last_Call-ID:]
      ${status.startsWith('487') ? 'CSeq: [last_cseq_number] INVITE' : '[last_CSeq:]'}
      Contact: <sip:[$agent]@[local_ip]:[local_port]>
${extra || '      Content-Length: 0'}
    ]]>
  </send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="calldock-chaos-agent">
  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp="sip:\\+1999([0-9]+)@" search_in="hdr" header="From:" check_it="false" assign_to="f,caller" />
      <ereg regexp="sip:([^@;>]+)@" search_in="hdr" header="To:" check_it="false" assign_to="t,agent" />
      <ereg regexp="&lt;([^&gt;]*)&gt;.*tag=([^;]*)" search_in="hdr" header="From:" check_it="false" assign_to="fr,remote_uri,remote_tag" />
      <gettimeofday assign_to="sec,usec" />
      <log message="rang [$caller] [$agent] [$sec] [$usec]" />
    </action>
  </recv>
  ${response('180 Ringing')}
  <recv request="CANCEL" timeout="${Math.max(1, ringMs)}" ontimeout="1" />
  ${response('200 OK')}
  ${response('487 Request Terminated')}
  <recv request="ACK" next="9">
    <action>
      <log message="cancelled [$caller] [$agent]" />
    </action>
  </recv>
  <label id="1" />
  ${response('200 OK', offer('agent'))}
  <recv request="ACK" crlf="true">
    <action>
      <gettimeofday assign_to="sec,usec" />
      <log message="answered [$caller] [$agent] [$sec] [$usec]" />
    </action>
  </recv>
  <recv request="BYE" timeout="${Math.max(1, talkMs)}" ontimeout="2" />
  ${OK_TO_REQUEST}
  <nop next="9">
    <action>
      <log message="released [$caller] [$agent]" />
    </action>
  </nop>
  <label id="2" />
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[$agent]@[local_ip]:[local_port]>;tag=[pid]a[call_number]
      To: <[$remote_uri]>;tag=[$remote_tag]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true">
    <action>
      <log message="hungup [$caller] [$agent]" />
    </action>
  </recv>
  <label id="9" />
  <Reference variables="f,t,fr" />
</scenario>
`;
}
