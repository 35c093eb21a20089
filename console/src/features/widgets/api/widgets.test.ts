import { describe, expect, it } from 'vitest';
import {
  bodyOf,
  errorsByInput,
  formOf,
  NEW_WIDGET,
  previewConfig,
  previewDocument,
  type Widget,
} from './widgets.ts';

const widget: Widget = {
  id: 3,
  publicId: 'abcDEF123456',
  name: 'Shop',
  color: '#aa0000',
  label: 'Talk to us',
  position: 'bottom-left',
  logoUrl: null,
  greeting: 'Hi!',
  callEnabled: false,
  chatEnabled: true,
  callQueueId: null,
  chatQueueId: 4,
  businessHoursId: null,
  allowedOrigins: ['https://shop.example.com', 'http://localhost:8080'],
  prechatFields: [{ name: 'name', label: 'Name', type: 'text', required: true }],
  enabled: true,
  snippet: '<script …>',
  version: 2,
  createdAt: '',
  updatedAt: '',
};

describe('widget settings form', () => {
  it('round-trips a widget through the form into the API body', () => {
    const body = bodyOf(formOf(widget));
    expect(body).toEqual({
      name: 'Shop',
      color: '#aa0000',
      label: 'Talk to us',
      position: 'bottom-left',
      logoUrl: null,
      greeting: 'Hi!',
      callEnabled: false,
      chatEnabled: true,
      callQueueId: null,
      chatQueueId: 4,
      businessHoursId: null,
      allowedOrigins: ['https://shop.example.com', 'http://localhost:8080'],
      prechatFields: widget.prechatFields,
      enabled: true,
    });
  });

  it('reads origins one per line (or comma separated), blank lines ignored', () => {
    const body = bodyOf({
      ...NEW_WIDGET,
      allowedOrigins: ' https://a.example\n\nhttps://b.example, https://c.example ',
    });
    expect(body.allowedOrigins).toEqual([
      'https://a.example',
      'https://b.example',
      'https://c.example',
    ]);
    expect(bodyOf({ ...NEW_WIDGET, greeting: '  ', logoUrl: '' })).toMatchObject({
      greeting: null,
      logoUrl: null,
    });
  });

  it('puts array item errors under their input, naming the bad origin', () => {
    const body = bodyOf({ ...NEW_WIDGET, allowedOrigins: 'https://ok.example\nshop dot com' });
    const errors = errorsByInput(
      {
        'allowedOrigins.1': 'must match pattern "^https?://"',
        'prechatFields.0.name': 'must match pattern',
        name: 'must NOT have fewer than 1 characters',
      },
      body,
    );
    expect(errors.allowedOrigins).toContain('“shop dot com”');
    expect(errors.prechatFields).toBe('Field 1 (name): must match pattern');
    expect(errors.name).toBe('must NOT have fewer than 1 characters');
  });
});

describe('widget preview', () => {
  it('gives the loader the edited settings as its config', () => {
    expect(previewConfig(formOf(widget))).toEqual({
      id: 'preview',
      color: '#aa0000',
      label: 'Talk to us',
      position: 'bottom-left',
      logoUrl: null,
      greeting: 'Hi!',
      call: false,
      chat: true,
      open: true,
      prechatFields: widget.prechatFields,
    });
  });

  it('loads the real loader and cannot be broken out of by a greeting with a script tag', () => {
    const doc = previewDocument(
      { ...formOf(widget), greeting: '</script><script>alert(1)</script>' },
      'http://127.0.0.1:3000',
    );
    expect(doc).toContain('<script src="http://127.0.0.1:3000/widget.js?id=preview" async>');
    expect(doc).not.toContain('</script><script>alert(1)');
    expect(doc.match(/<\/script>/g)).toHaveLength(2);
  });
});
