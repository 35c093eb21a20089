/**
 * Website widgets (admins): the list, a form for one widget with the API's field errors next to
 * the inputs, the snippet to paste, and a live preview running the real loader.
 */
import { useDeferredValue, useState, type FormEvent, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../../lib/api.ts';
import {
  bodyOf,
  createWidget,
  errorsByInput,
  formOf,
  hoursChoicesQuery,
  NEW_WIDGET,
  previewDocument,
  queueChoicesQuery,
  updateWidget,
  widgetsQuery,
  type PrechatField,
  type Widget,
  type WidgetForm,
} from '../api/widgets.ts';

export default function WidgetsPage() {
  const widgets = useQuery(widgetsQuery());
  const [editing, setEditing] = useState<Widget | 'new' | null>(null);
  const current =
    editing && editing !== 'new'
      ? (widgets.data?.items.find((w) => w.id === editing.id) ?? editing)
      : editing;
  return (
    <div className="grid">
      <section className="card wide" aria-label="Widgets">
        <div className="row">
          <h3>Website widgets</h3>
          <button onClick={() => setEditing('new')}>New widget</button>
        </div>
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Button</th>
              <th>Offers</th>
              <th>Enabled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {widgets.data?.items.map((w) => (
              <tr key={w.id}>
                <td>{w.name}</td>
                <td>
                  <span className="swatch" style={{ background: w.color }} /> {w.label}
                </td>
                <td>
                  {[w.callEnabled && 'call', w.chatEnabled && 'chat'].filter(Boolean).join(', ')}
                </td>
                <td>{w.enabled ? 'yes' : 'no'}</td>
                <td>
                  <button
                    className="secondary"
                    onClick={() => setEditing(w)}
                    aria-label={`Edit ${w.name}`}
                  >
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {current && (
        <WidgetEditor
          key={current === 'new' ? 'new' : current.id}
          widget={current === 'new' ? undefined : current}
          onSaved={(w) => setEditing(w)}
        />
      )}
    </div>
  );
}

function Field(props: { label: string; error?: string | undefined; children: ReactNode }) {
  return (
    <label>
      {props.label}
      {props.children}
      {props.error && <span className="field-error">{props.error}</span>}
    </label>
  );
}

function WidgetEditor(props: { widget: Widget | undefined; onSaved: (w: Widget) => void }) {
  const qc = useQueryClient();
  const queues = useQuery(queueChoicesQuery());
  const hours = useQuery(hoursChoicesQuery());
  const [form, setForm] = useState<WidgetForm>(
    props.widget ? formOf(props.widget) : { ...NEW_WIDGET },
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const preview = useDeferredValue(form);
  const set = <K extends keyof WidgetForm>(key: K, value: WidgetForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const invalid = (key: string) => (errors[key] ? true : undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(undefined);
    const body = bodyOf(form);
    try {
      const saved = props.widget
        ? await updateWidget(props.widget.id, props.widget.version, body)
        : await createWidget(body);
      await qc.invalidateQueries({ queryKey: ['widgets'] });
      setMessage({ ok: true, text: 'Saved' });
      props.onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(errorsByInput(err.fields, body));
        setMessage({ ok: false, text: err.message });
      } else setMessage({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const queueSelect = (key: 'callQueueId' | 'chatQueueId', label: string) => (
    <Field label={label} error={errors[key]}>
      <select
        value={form[key]}
        aria-invalid={invalid(key)}
        onChange={(e) => set(key, e.target.value)}
      >
        <option value="">None</option>
        {queues.data?.items.map((q) => (
          <option key={q.id} value={String(q.id)}>
            {q.name}
          </option>
        ))}
      </select>
    </Field>
  );

  const title = props.widget ? `Edit ${props.widget.name}` : 'New widget';
  return (
    <>
      <form
        className="card form widget-form"
        onSubmit={(e) => void submit(e)}
        aria-label="Widget settings"
      >
        <h3>{title}</h3>
        <Field label="Name" error={errors.name}>
          <input
            value={form.name}
            aria-invalid={invalid('name')}
            onChange={(e) => set('name', e.target.value)}
          />
        </Field>
        <div className="row">
          <Field label="Button label" error={errors.label}>
            <input
              value={form.label}
              aria-invalid={invalid('label')}
              onChange={(e) => set('label', e.target.value)}
            />
          </Field>
          <Field label="Colour" error={errors.color}>
            <input type="color" value={form.color} onChange={(e) => set('color', e.target.value)} />
          </Field>
          <Field label="Position" error={errors.position}>
            <select
              value={form.position}
              onChange={(e) => set('position', e.target.value as WidgetForm['position'])}
            >
              <option value="bottom-right">Bottom right</option>
              <option value="bottom-left">Bottom left</option>
            </select>
          </Field>
        </div>
        <Field label="Logo URL" error={errors.logoUrl}>
          <input
            value={form.logoUrl}
            placeholder="https://…"
            aria-invalid={invalid('logoUrl')}
            onChange={(e) => set('logoUrl', e.target.value)}
          />
        </Field>
        <Field label="Greeting" error={errors.greeting}>
          <textarea
            value={form.greeting}
            rows={2}
            onChange={(e) => set('greeting', e.target.value)}
          />
        </Field>
        <div className="row">
          <label className="inline">
            <input
              type="checkbox"
              checked={form.callEnabled}
              onChange={(e) => set('callEnabled', e.target.checked)}
            />
            Offer calls
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={form.chatEnabled}
              onChange={(e) => set('chatEnabled', e.target.checked)}
            />
            Offer chat
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={form.enabled}
              onChange={(e) => set('enabled', e.target.checked)}
            />
            Enabled
          </label>
        </div>
        <div className="row">
          {queueSelect('callQueueId', 'Call queue')}
          {queueSelect('chatQueueId', 'Chat queue')}
          <Field label="Business hours" error={errors.businessHoursId}>
            <select
              value={form.businessHoursId}
              onChange={(e) => set('businessHoursId', e.target.value)}
            >
              <option value="">Always open</option>
              {hours.data?.items.map((h) => (
                <option key={h.id} value={String(h.id)}>
                  {h.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Field label="Allowed origins (one per line)" error={errors.allowedOrigins}>
          <textarea
            value={form.allowedOrigins}
            rows={3}
            placeholder="https://shop.example.com"
            aria-invalid={invalid('allowedOrigins')}
            onChange={(e) => set('allowedOrigins', e.target.value)}
          />
        </Field>
        <PrechatEditor
          fields={form.prechatFields}
          error={errors.prechatFields}
          onChange={(v) => set('prechatFields', v)}
        />
        <button type="submit" disabled={busy}>
          Save widget
        </button>
        {message && (
          <p role={message.ok ? 'status' : 'alert'} className={message.ok ? 'ok' : 'error'}>
            {message.text}
          </p>
        )}
      </form>
      <section className="card" aria-label="Preview and snippet">
        <h3>Preview</h3>
        <iframe
          title="Widget preview"
          className="widget-preview"
          sandbox="allow-scripts"
          srcDoc={previewDocument(preview, location.origin)}
        />
        {props.widget && (
          <>
            <h3>Snippet</h3>
            <p className="muted">Paste this into every page of the site, before &lt;/body&gt;.</p>
            <Snippet text={props.widget.snippet} />
          </>
        )}
      </section>
    </>
  );
}

function Snippet({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <pre className="snippet" data-testid="snippet">
        {text}
      </pre>
      <button
        type="button"
        className="secondary"
        onClick={() =>
          void navigator.clipboard?.writeText(text).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy snippet'}
      </button>
    </div>
  );
}

function PrechatEditor(props: {
  fields: PrechatField[];
  error: string | undefined;
  onChange: (fields: PrechatField[]) => void;
}) {
  const update = (i: number, patch: Partial<PrechatField>) =>
    props.onChange(props.fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  return (
    <fieldset className="prechat">
      <legend>Pre-chat form fields</legend>
      {props.fields.map((f, i) => (
        <div className="row" key={i}>
          <input
            aria-label={`Field ${i + 1} key`}
            value={f.name}
            onChange={(e) => update(i, { name: e.target.value })}
          />
          <input
            aria-label={`Field ${i + 1} label`}
            value={f.label}
            onChange={(e) => update(i, { label: e.target.value })}
          />
          <select
            aria-label={`Field ${i + 1} type`}
            value={f.type}
            onChange={(e) => update(i, { type: e.target.value as PrechatField['type'] })}
          >
            <option value="text">text</option>
            <option value="email">email</option>
            <option value="tel">tel</option>
          </select>
          <label className="inline">
            <input
              type="checkbox"
              checked={f.required}
              onChange={(e) => update(i, { required: e.target.checked })}
            />
            required
          </label>
          <button
            type="button"
            className="secondary"
            aria-label={`Remove field ${i + 1}`}
            onClick={() => props.onChange(props.fields.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        disabled={props.fields.length >= 10}
        onClick={() =>
          props.onChange([...props.fields, { name: '', label: '', type: 'text', required: false }])
        }
      >
        Add field
      </button>
      {props.error && <span className="field-error">{props.error}</span>}
    </fieldset>
  );
}
