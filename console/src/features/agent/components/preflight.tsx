/**
 * Before an agent goes available: the microphone works (and picks up sound), the phone server's
 * WebSocket answers, and ICE finds a local candidate. Each failure says what to do.
 */
import { useCallback, useEffect, useState } from 'react';

export type CheckState = 'pending' | 'ok' | 'failed';
export interface PreflightResult {
  mic: CheckState;
  micLevel: number;
  wss: CheckState;
  ice: CheckState;
  advice: string[];
}

async function checkMic(onLevel: (l: number) => void): Promise<void> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  try {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      analyser.getByteTimeDomainData(data);
      for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
      onLevel(peak);
    }
    await ctx.close();
  } finally {
    stream.getTracks().forEach((t) => t.stop());
  }
}

function checkWss(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'sip');
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error('timeout'));
    }, 5_000);
    ws.onopen = () => {
      clearTimeout(timer);
      ws.close();
      resolve();
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error('refused'));
    };
  });
}

async function checkIce(): Promise<void> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  try {
    pc.createDataChannel('preflight');
    let found = false;
    pc.onicecandidate = (e) => {
      if (e.candidate?.candidate) found = true;
    };
    await pc.setLocalDescription(await pc.createOffer());
    const deadline = Date.now() + 5_000;
    while (pc.iceGatheringState !== 'complete' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    if (!found && !/a=candidate/.test(pc.localDescription?.sdp ?? ''))
      throw new Error('no candidates');
  } finally {
    pc.close();
  }
}

export function usePreflight(wsUrl: string | undefined) {
  const [result, setResult] = useState<PreflightResult>({
    mic: 'pending',
    micLevel: 0,
    wss: 'pending',
    ice: 'pending',
    advice: [],
  });
  const run = useCallback(async () => {
    if (!wsUrl) return;
    const advice: string[] = [];
    const r: PreflightResult = {
      mic: 'pending',
      micLevel: 0,
      wss: 'pending',
      ice: 'pending',
      advice,
    };
    setResult({ ...r });
    try {
      await checkMic((l) => setResult((p) => ({ ...p, micLevel: l })));
      r.mic = 'ok';
    } catch (err) {
      r.mic = 'failed';
      advice.push(
        (err as Error).name === 'NotAllowedError'
          ? 'Allow this site to use the microphone (the padlock in the address bar), then run the checks again.'
          : 'No microphone was found: plug in a headset and run the checks again.',
      );
    }
    try {
      await checkWss(wsUrl);
      r.wss = 'ok';
    } catch {
      r.wss = 'failed';
      advice.push(
        `The phone server (${wsUrl}) does not answer: check your network or VPN, or tell your admin.`,
      );
    }
    try {
      await checkIce();
      r.ice = 'ok';
    } catch {
      r.ice = 'failed';
      advice.push(
        'The browser found no network path for audio (ICE): a firewall may block WebRTC.',
      );
    }
    setResult((p) => ({ ...r, micLevel: p.micLevel }));
  }, [wsUrl]);
  useEffect(() => {
    void run();
  }, [run]);
  return {
    result,
    rerun: run,
    passed: result.mic === 'ok' && result.wss === 'ok' && result.ice === 'ok',
  };
}

const LABEL: Record<CheckState, string> = { pending: '…', ok: 'OK', failed: 'Failed' };

export function PreflightPanel({
  result,
  onRerun,
}: {
  result: PreflightResult;
  onRerun: () => void;
}) {
  return (
    <section className="card" aria-label="Preflight">
      <h2>Preflight</h2>
      <ul className="checks">
        <li data-state={result.mic}>
          Microphone: {LABEL[result.mic]}{' '}
          <meter min={0} max={1} value={result.micLevel} aria-label="Microphone level" />
        </li>
        <li data-state={result.wss}>Phone server reachable: {LABEL[result.wss]}</li>
        <li data-state={result.ice}>Audio network (ICE): {LABEL[result.ice]}</li>
      </ul>
      {result.advice.map((a) => (
        <p key={a} className="error">
          {a}
        </p>
      ))}
      <button className="secondary" onClick={onRerun}>
        Run checks again
      </button>
    </section>
  );
}
