/**
 * A small form that posts to the API and puts the API's own field errors next to the inputs
 * (`{"error":{"details":[{"field","message"}]}}`): the form validates exactly as the API does.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, api } from '../../../lib/api.ts';

export interface Field {
  name: string;
  label: string;
  type?: 'text' | 'number' | 'email' | 'select' | 'password';
  options?: Array<{ value: string; label: string }>;
  required?: boolean;
  initial?: string;
  /** Extra API field paths whose errors belong to this input (`target.id`). */
  errorPaths?: string[];
}

export function ApiForm(props: {
  title: string;
  fields: Field[];
  submitLabel: string;
  onSubmit: (values: Record<string, string>) => Promise<unknown>;
  children?: ReactNode;
}) {
  const initial = Object.fromEntries(
    props.fields.map((f) => [f.name, f.initial ?? f.options?.[0]?.value ?? '']),
  );
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(undefined);
    try {
      await props.onSubmit(values);
      setValues(initial);
      setMessage({ ok: true, text: 'Saved' });
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.fields);
        setMessage({ ok: false, text: err.message });
      } else setMessage({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (f: Field) =>
    errors[f.name] ?? f.errorPaths?.map((p) => errors[p]).find(Boolean);

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label={props.title}>
      <h3>{props.title}</h3>
      {props.fields.map((f) => {
        const error = errorFor(f);
        const common = {
          name: f.name,
          value: values[f.name] ?? '',
          'aria-invalid': error ? true : undefined,
          onChange: (e: { target: { value: string } }) =>
            setValues((v) => ({ ...v, [f.name]: e.target.value })),
        };
        return (
          <label key={f.name}>
            {f.label}
            {f.type === 'select' ? (
              <select {...common}>
                {f.options?.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input {...common} type={f.type ?? 'text'} required={f.required} />
            )}
            {error && <span className="field-error">{error}</span>}
          </label>
        );
      })}
      {props.children}
      <button type="submit" disabled={busy}>
        {props.submitLabel}
      </button>
      {message && (
        <p role={message.ok ? 'status' : 'alert'} className={message.ok ? 'ok' : 'error'}>
          {message.text}
        </p>
      )}
    </form>
  );
}

/** Turns a form string into a number, or undefined when empty (so the API's defaults apply). */
export const optNum = (v: string | undefined) =>
  v === undefined || v.trim() === '' ? undefined : Number(v);

/**
 * Edit and delete for one listed object, based on the version the list showed: a change made by
 * someone else meanwhile comes back as the API's 412 ("reload and try again"), never lost.
 * `edit` reuses the create form's fields, filled with the object's values, and sends a PATCH with
 * `version`; delete sends If-Match.
 */
export function RowActions(props: {
  name: string;
  path: string;
  version: number;
  edit?: { fields: Field[]; toBody: (values: Record<string, string>) => Record<string, unknown> };
  onChanged: () => Promise<unknown>;
  deleteLabel?: string;
}) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  const remove = async () => {
    setError(undefined);
    try {
      await api.request('DELETE', props.path, undefined, { 'if-match': `"v${props.version}"` });
      await props.onChanged();
    } catch (err) {
      setError((err as Error).message);
      setConfirming(false);
    }
  };
  return (
    <div className="row-actions">
      {props.edit && (
        <button type="button" className="secondary" onClick={() => setEditing((e) => !e)} aria-label={`Edit ${props.name}`}>
          Edit
        </button>
      )}
      {confirming ? (
        <button type="button" className="danger" onClick={() => void remove()} aria-label={`Confirm delete ${props.name}`}>
          Confirm {props.deleteLabel ?? 'delete'}
        </button>
      ) : (
        <button type="button" className="secondary" onClick={() => setConfirming(true)} aria-label={`Delete ${props.name}`}>
          {props.deleteLabel ?? 'Delete'}
        </button>
      )}
      {error && <p className="error">{error}</p>}
      {editing && props.edit && (
        <ApiForm
          title={`Edit ${props.name}`}
          submitLabel="Save changes"
          fields={props.edit.fields}
          onSubmit={async (values) => {
            try {
              await api.request('PATCH', props.path, { ...props.edit!.toBody(values), version: props.version });
            } catch (err) {
              // Changed by someone else meanwhile: show the latest, the admin saves again.
              if (err instanceof ApiError && err.status === 412) await props.onChanged();
              throw err;
            }
            setEditing(false);
            await props.onChanged();
          }}
        />
      )}
    </div>
  );
}
