/**
 * Website widget settings (admins): the API calls, the form's state and its mapping to the API's
 * body, field errors per input, and the preview document that runs the real loader with the
 * settings being edited.
 */
import { queryOptions } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api.ts';

export interface PrechatField {
  name: string;
  label: string;
  type: 'text' | 'email' | 'tel';
  required: boolean;
}

export interface Widget {
  id: number;
  publicId: string;
  name: string;
  color: string;
  label: string;
  position: 'bottom-right' | 'bottom-left';
  logoUrl: string | null;
  greeting: string | null;
  callEnabled: boolean;
  chatEnabled: boolean;
  callQueueId: number | null;
  chatQueueId: number | null;
  businessHoursId: number | null;
  allowedOrigins: string[];
  prechatFields: PrechatField[];
  enabled: boolean;
  snippet: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type WidgetBody = Omit<
  Widget,
  'id' | 'publicId' | 'snippet' | 'version' | 'createdAt' | 'updatedAt'
>;

export const widgetsQuery = () =>
  queryOptions({
    queryKey: ['widgets'],
    queryFn: () => api.request<Page<Widget>>('GET', `/widgets${qs({ limit: 100 })}`),
  });
/** Queues and business hours the widget may point at. */
export const queueChoicesQuery = () =>
  queryOptions({
    queryKey: ['queues', 'choices'],
    queryFn: () =>
      api.request<Page<{ id: number; name: string }>>('GET', `/queues${qs({ limit: 100 })}`),
  });
export const hoursChoicesQuery = () =>
  queryOptions({
    queryKey: ['hours', 'choices'],
    queryFn: () =>
      api.request<Page<{ id: number; name: string }>>('GET', `/hours${qs({ limit: 100 })}`),
  });
export const createWidget = (body: WidgetBody) => api.request<Widget>('POST', '/widgets', body);
export const updateWidget = (id: number, version: number, body: WidgetBody) =>
  api.request<Widget>('PATCH', `/widgets/${id}`, { ...body, version });

/** What the form edits: text inputs keep strings until saved. */
export interface WidgetForm {
  name: string;
  color: string;
  label: string;
  position: 'bottom-right' | 'bottom-left';
  logoUrl: string;
  greeting: string;
  callEnabled: boolean;
  chatEnabled: boolean;
  callQueueId: string;
  chatQueueId: string;
  businessHoursId: string;
  /** One origin per line. */
  allowedOrigins: string;
  prechatFields: PrechatField[];
  enabled: boolean;
}

export const NEW_WIDGET: WidgetForm = {
  name: '',
  color: '#1f3a5f',
  label: 'Contact us',
  position: 'bottom-right',
  logoUrl: '',
  greeting: '',
  callEnabled: true,
  chatEnabled: true,
  callQueueId: '',
  chatQueueId: '',
  businessHoursId: '',
  allowedOrigins: '',
  prechatFields: [
    { name: 'name', label: 'Name', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: false },
  ],
  enabled: true,
};

const idOrNull = (v: string) => (v === '' ? null : Number(v));
const textOrNull = (v: string) => (v.trim() === '' ? null : v.trim());

export function formOf(w: Widget): WidgetForm {
  return {
    name: w.name,
    color: w.color,
    label: w.label,
    position: w.position,
    logoUrl: w.logoUrl ?? '',
    greeting: w.greeting ?? '',
    callEnabled: w.callEnabled,
    chatEnabled: w.chatEnabled,
    callQueueId: w.callQueueId === null ? '' : String(w.callQueueId),
    chatQueueId: w.chatQueueId === null ? '' : String(w.chatQueueId),
    businessHoursId: w.businessHoursId === null ? '' : String(w.businessHoursId),
    allowedOrigins: w.allowedOrigins.join('\n'),
    prechatFields: w.prechatFields.map((f) => ({ ...f })),
    enabled: w.enabled,
  };
}

export function originLines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean);
}

export function bodyOf(f: WidgetForm): WidgetBody {
  return {
    name: f.name.trim(),
    color: f.color,
    label: f.label,
    position: f.position,
    logoUrl: textOrNull(f.logoUrl),
    greeting: textOrNull(f.greeting),
    callEnabled: f.callEnabled,
    chatEnabled: f.chatEnabled,
    callQueueId: idOrNull(f.callQueueId),
    chatQueueId: idOrNull(f.chatQueueId),
    businessHoursId: idOrNull(f.businessHoursId),
    allowedOrigins: originLines(f.allowedOrigins),
    prechatFields: f.prechatFields,
    enabled: f.enabled,
  };
}

/**
 * The API's field errors (`allowedOrigins.1`, `prechatFields.0.name`) gathered under the input
 * they belong to, saying which entry is wrong.
 */
export function errorsByInput(
  fields: Record<string, string>,
  body: WidgetBody | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(fields)) {
    const [top, index, sub] = path.split('.');
    if (!top) continue;
    let text = message;
    if (top === 'allowedOrigins' && index !== undefined) {
      const value = body?.allowedOrigins[Number(index)];
      text = `${value !== undefined ? `“${value}”` : `Line ${Number(index) + 1}`} is not an origin like https://shop.example.com`;
    } else if (top === 'prechatFields' && index !== undefined) {
      text = `Field ${Number(index) + 1}${sub ? ` (${sub})` : ''}: ${message}`;
    }
    out[top] = out[top] ? `${out[top]}; ${text}` : text;
  }
  return out;
}

/** What the loader reads from /widgets/:id/config, made from the settings being edited. */
export function previewConfig(f: WidgetForm) {
  return {
    id: 'preview',
    color: f.color,
    label: f.label || ' ',
    position: f.position,
    logoUrl: textOrNull(f.logoUrl),
    greeting: textOrNull(f.greeting),
    call: f.callEnabled,
    chat: f.chatEnabled,
    open: true,
    prechatFields: f.prechatFields,
  };
}

/**
 * A page for a sandboxed iframe (scripts, no same-origin): the real `widget.js` from this
 * control plane, with its one config request answered by the edited settings. The panel opens
 * by itself so the greeting shows.
 */
export function previewDocument(f: WidgetForm, origin: string): string {
  const config = JSON.stringify(previewConfig(f)).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0;height:100vh;background:#eef1f5;font:13px system-ui,sans-serif;color:#667">
<p style="padding:12px;margin:0">A page of your site</p>
<script>
const config = ${config};
window.fetch = (url) => String(url).endsWith('/config')
  ? Promise.resolve(new Response(JSON.stringify(config), { headers: { 'content-type': 'application/json' } }))
  : Promise.reject(new TypeError('not in the preview'));
new MutationObserver((_, observer) => {
  const launcher = document.getElementById('calldock-widget')?.shadowRoot?.querySelector('button.b');
  if (launcher) { observer.disconnect(); launcher.click(); }
}).observe(document.body, { childList: true });
</script>
<script src="${origin}/widget.js?id=preview" async></script>
</body></html>`;
}
