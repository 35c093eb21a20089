/**
 * A small form that posts to the API and puts the API's own field errors next to the inputs
 * (`{"error":{"details":[{"field","message"}]}}`): the form validates exactly as the API does.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../../../lib/api.ts';

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
