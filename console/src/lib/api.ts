/**
 * The one way the console talks to the control plane: JSON over fetch with the access token,
 * refreshed (and the refresh token rotated) on expiry. Errors keep the API's field details so
 * forms can show them next to their inputs.
 */

export interface SessionUser {
  id: number;
  tenantId: number | null;
  role: 'platform_admin' | 'tenant_admin' | 'supervisor' | 'agent' | 'helpdesk';
  displayName: string;
  email: string;
}

export interface Session {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user: SessionUser;
}

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }

  /** Field errors keyed by field path (`target.id`), for forms. */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {};
    if (Array.isArray(this.details)) {
      for (const d of this.details as FieldError[]) {
        if (d && typeof d.field === 'string') out[d.field] = d.message;
      }
    }
    return out;
  }
}

const REFRESH_KEY = 'calldock.refreshToken';

type Listener = (session: Session | null) => void;

class ApiClient {
  private session: Session | null = null;
  private refreshing: Promise<Session | null> | null = null;
  private readonly listeners = new Set<Listener>();

  get current(): Session | null {
    return this.session;
  }

  get accessToken(): string | null {
    return this.session?.accessToken ?? null;
  }

  onSession(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setSession(session: Session | null): void {
    this.session = session;
    if (session) localStorage.setItem(REFRESH_KEY, session.refreshToken);
    else localStorage.removeItem(REFRESH_KEY);
    for (const l of this.listeners) l(session);
  }

  async login(email: string, password: string): Promise<Session> {
    const session = await this.raw<Session>('POST', '/auth/login', { email, password }, false);
    this.setSession(session);
    return session;
  }

  async logout(): Promise<void> {
    try {
      if (this.session) await this.request('POST', '/auth/logout');
    } finally {
      this.setSession(null);
    }
  }

  /** Trades the stored refresh token for a new session; one at a time, shared by all callers. */
  refresh(): Promise<Session | null> {
    if (this.refreshing) return this.refreshing;
    const run = this.rotate();
    this.refreshing = run;
    void run.finally(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    return run;
  }

  private async rotate(): Promise<Session | null> {
    const token = localStorage.getItem(REFRESH_KEY);
    if (!token) return null;
    try {
      const session = await this.raw<Session>(
        'POST',
        '/auth/refresh',
        { refreshToken: token },
        false,
      );
      this.setSession(session);
      return session;
    } catch (err) {
      // A refused token ends the session; a network failure keeps it for the next try.
      if (err instanceof ApiError) this.setSession(null);
      return null;
    }
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    try {
      return await this.raw<T>(method, path, body, true, headers);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && (await this.refresh())) {
        return this.raw<T>(method, path, body, true, headers);
      }
      throw err;
    }
  }

  /** A binary or text download with the access token (recordings, CSV exports). */
  async download(path: string): Promise<Blob> {
    const go = () =>
      fetch(`/api/v1${path}`, {
        headers: this.session ? { authorization: `Bearer ${this.session.accessToken}` } : {},
      });
    let res = await go();
    if (res.status === 401 && (await this.refresh())) res = await go();
    if (!res.ok)
      throw new ApiError(
        res.status,
        'DOWNLOAD_FAILED',
        `Download failed (${res.status})`,
        undefined,
      );
    return res.blob();
  }

  private async raw<T>(
    method: string,
    path: string,
    body: unknown,
    withToken: boolean,
    headers: Record<string, string> = {},
  ): Promise<T> {
    // A FormData body (file uploads) sets its own multipart content type and boundary.
    const form = body instanceof FormData;
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        ...(body !== undefined && !form ? { 'content-type': 'application/json' } : {}),
        ...(withToken && this.session
          ? { authorization: `Bearer ${this.session.accessToken}` }
          : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: form ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const e = (
        json as { error?: { code?: string; message?: string; details?: unknown } } | undefined
      )?.error;
      throw new ApiError(
        res.status,
        e?.code ?? 'HTTP_ERROR',
        e?.message ?? `HTTP ${res.status}`,
        e?.details,
      );
    }
    return json as T;
  }
}

export const api = new ApiClient();

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const entries = Object.entries(params).filter(
    ([, v]) => v !== undefined && v !== null && v !== '',
  );
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
}
