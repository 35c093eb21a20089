import { describe, expect, it } from 'vitest';
import { holdsSameConfig, type PjsipObject } from './push-config.ts';

// Fields as Asterisk 22 printed them back for objects pushed with the `desired` fields below.
const printedEndpoint = [
  { attribute: 'webrtc', value: 'yes' },
  { attribute: 'aors', value: 't1-agent-9' },
  { attribute: 'context', value: 'from-webrtc' },
  { attribute: 'transport', value: 'transport-ws' },
  { attribute: 'callerid', value: '"Ann O\'Neil" <100>' },
  { attribute: 'allow', value: '(opus|ulaw)' },
  { attribute: 'direct_media', value: 'false' },
  { attribute: 'auth', value: 't1-agent-9' },
];
const endpoint: PjsipObject = {
  type: 'endpoint',
  id: 't1-agent-9',
  fields: [
    ['transport', 'transport-ws'],
    ['context', 'from-webrtc'],
    ['disallow', 'all'],
    ['allow', 'opus,ulaw'],
    ['webrtc', 'yes'],
    ['direct_media', 'no'],
    ['aors', 't1-agent-9'],
    ['auth', 't1-agent-9'],
    ['callerid', '"Ann O\'Neil" <100>'],
    ['set_var', 'CALLDOCK_TENANT=1'],
  ],
};

describe('holdsSameConfig', () => {
  it('sees an object as Asterisk prints it back as the same as what was pushed', () => {
    expect(holdsSameConfig(printedEndpoint, endpoint)).toBe(true);
    expect(
      holdsSameConfig(
        [
          { attribute: 'match', value: '127.0.0.1:5080/255.255.255.255' },
          { attribute: 'match', value: '10.0.0.0/255.0.0.0' },
          { attribute: 'endpoint', value: 't1-trunk-1' },
        ],
        {
          type: 'identify',
          id: 't1-trunk-1',
          fields: [
            ['endpoint', 't1-trunk-1'],
            ['match', '10.0.0.0/8,127.0.0.1:5080'],
          ],
        },
      ),
    ).toBe(true);
  });

  it('reads caller IDs the way Asterisk prints them: bare name, shrunk number', () => {
    const desired = (value: string): PjsipObject => ({
      type: 'endpoint',
      id: 'x',
      fields: [['callerid', value]],
    });
    expect(
      holdsSameConfig([{ attribute: 'callerid', value: 'Ann Smith' }], desired('"Ann Smith"')),
    ).toBe(true);
    expect(
      holdsSameConfig([{ attribute: 'callerid', value: '"Ann" <100>' }], desired('"Ann" <1-00>')),
    ).toBe(true);
    expect(
      holdsSameConfig([{ attribute: 'callerid', value: '+15551230000' }], desired('+15551230000')),
    ).toBe(true);
    expect(
      holdsSameConfig([{ attribute: 'callerid', value: '"Ann" <100>' }], desired('"Ann" <101>')),
    ).toBe(false);
  });

  it('notices a changed value, codec order or match entry', () => {
    const changed = (attribute: string, value: string) =>
      printedEndpoint.map((f) => (f.attribute === attribute ? { attribute, value } : f));
    expect(holdsSameConfig(changed('callerid', '"Bob" <101>'), endpoint)).toBe(false);
    expect(holdsSameConfig(changed('allow', '(ulaw|opus)'), endpoint)).toBe(false);
    expect(
      holdsSameConfig(
        [
          { attribute: 'match', value: '10.0.0.0/255.0.0.0' },
          { attribute: 'match', value: '192.0.2.1/255.255.255.255' },
        ],
        { type: 'identify', id: 'x', fields: [['match', '10.0.0.0/8']] },
      ),
    ).toBe(false);
  });
});
