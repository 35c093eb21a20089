import { describe, expect, it } from 'vitest';
import { fallbackCdrs, parseCsvLine } from './fallback.ts';

describe("Asterisk's cdr_csv", () => {
  it('splits quoted fields with doubled quotes and bare numbers', () => {
    expect(parseCsvLine('"a","""Test"" <+1>",3,"",x')).toEqual(['a', '"Test" <+1>', '3', '', 'x']);
  });

  it('keeps only calls the fallback context took, with UTC times', () => {
    const csv = [
      '"","+15553330001","+15554440001","calldock-fallback","""A"" <+15553330001>","PJSIP/t-0001","PJSIP/t1-agent-2-0002","Dial","PJSIP/t1-agent-2,30","2026-11-22 05:00:00","2026-11-22 05:00:03","2026-11-22 05:00:10",10,7,"ANSWERED","DOCUMENTATION","1795.1",""',
      '"","+15553330002","+15554440001","from-trunk","","PJSIP/t-0003","","Stasis","calldock,trunk,+15554440001","2026-11-22 05:01:00","2026-11-22 05:01:00","2026-11-22 05:01:05",5,5,"ANSWERED","DOCUMENTATION","1795.3",""',
      '"","+15553330003","+15554440001","calldock-fallback","","PJSIP/t-0004","","Playback","vm-goodbye","2026-11-22 05:02:00","","2026-11-22 05:02:04",4,0,"NO ANSWER","DOCUMENTATION","1795.4",""',
    ].join('\n');
    expect(fallbackCdrs(csv)).toEqual([
      {
        from: '+15553330001',
        did: '+15554440001',
        start: new Date('2026-11-22T05:00:00Z'),
        answer: new Date('2026-11-22T05:00:03Z'),
        end: new Date('2026-11-22T05:00:10Z'),
        billsec: 7,
        disposition: 'ANSWERED',
        uniqueid: '1795.1',
        answeredBy: 't1-agent-2',
      },
      {
        from: '+15553330003',
        did: '+15554440001',
        start: new Date('2026-11-22T05:02:00Z'),
        answer: null,
        end: new Date('2026-11-22T05:02:04Z'),
        billsec: 0,
        disposition: 'NO ANSWER',
        uniqueid: '1795.4',
        answeredBy: null,
      },
    ]);
  });

  it('makes one call of a ring group\'s lines, answered by the phone that answered', () => {
    const leg = (phone: string, answer: string, end: string, billsec: number, disposition: string) =>
      `"","+15553330009","+15554440001","calldock-fallback","","PJSIP/trunk-00000010","PJSIP/${phone}-0000001a","Dial","PJSIP/a-1&PJSIP/a-2","2026-11-22 05:00:00","${answer}","${end}",${billsec + 2},${billsec},"${disposition}","DOCUMENTATION","1795.9",""`;
    const csv = [
      leg('a-1', '', '2026-11-22 05:00:02', 0, 'NO ANSWER'),
      leg('a-2', '2026-11-22 05:00:02', '2026-11-22 05:00:09', 7, 'ANSWERED'),
      leg('a-3', '', '2026-11-22 05:00:02', 0, 'NO ANSWER'),
    ].join('\n');
    expect(fallbackCdrs(csv)).toEqual([
      {
        from: '+15553330009',
        did: '+15554440001',
        start: new Date('2026-11-22T05:00:00Z'),
        answer: new Date('2026-11-22T05:00:02Z'),
        end: new Date('2026-11-22T05:00:09Z'),
        billsec: 7,
        disposition: 'ANSWERED',
        uniqueid: '1795.9',
        answeredBy: 'a-2',
      },
    ]);
  });
});
