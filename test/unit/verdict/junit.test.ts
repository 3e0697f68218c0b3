import { describe, expect, it } from 'vitest';
import { renderJUnit, xmlEscape } from '../../../src/verdict/junit.js';

describe('renderJUnit', () => {
  it('writes suites, cases, failures and counts', () => {
    const xml = renderJUnit([
      {
        name: 'fairness http://127.0.0.1/jk',
        timestamp: '2026-01-01T00:00:00.000Z',
        timeS: 12.5,
        properties: { expect: 'tomcat1=1,tomcat2=1' },
        cases: [
          { name: 'chi-square p >= 0.01', classname: 'ajpbench.fairness', output: 'p = 0.3' },
          {
            name: 'largest deviation <= 5%',
            classname: 'ajpbench.fairness',
            failure: { message: 'tomcat1 is +50.0% off', details: 'tomcat1 1500\ntomcat2 500' },
          },
          { name: 'sticky', classname: 'ajpbench.fairness', skipped: 'not asked (--sticky)' },
        ],
        output: 'the table',
      },
    ]);
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ajpbench" tests="3" failures="1" errors="0" skipped="1" time="12.500">',
      ),
    ).toBe(true);
    expect(xml).toContain(
      '<testsuite name="fairness http://127.0.0.1/jk" tests="3" failures="1" errors="0" skipped="1" time="12.500" timestamp="2026-01-01T00:00:00.000Z">',
    );
    expect(xml).toContain('<property name="expect" value="tomcat1=1,tomcat2=1"/>');
    expect(xml).toContain(
      '<testcase name="chi-square p &gt;= 0.01" classname="ajpbench.fairness" time="0">\n      <system-out>p = 0.3</system-out>\n    </testcase>',
    );
    expect(xml).toContain(
      '<failure message="tomcat1 is +50.0% off" type="VerdictFailed">tomcat1 1500\ntomcat2 500</failure>',
    );
    expect(xml).toContain('<skipped message="not asked (--sticky)"/>');
    expect(xml.trimEnd().endsWith('</testsuites>')).toBe(true);
    // Balanced: every opened element is closed.
    for (const tag of ['testsuites', 'testsuite', 'testcase', 'properties']) {
      const opened = (xml.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length;
      const selfClosed = (xml.match(new RegExp(`<${tag} [^>]*/>`, 'g')) ?? []).length;
      expect(opened - selfClosed).toBe((xml.match(new RegExp(`</${tag}>`, 'g')) ?? []).length);
    }
  });
  it('escapes markup and drops characters XML cannot carry', () => {
    expect(xmlEscape(`a<b>&"c'\u0001\u0008d\ttab`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d\ttab');
    expect(renderJUnit([{ name: ']]>', cases: [{ name: 'x\u0000', classname: 'c' }] }])).toContain(
      '<testcase name="x" classname="c" time="0"/>',
    );
  });
});
