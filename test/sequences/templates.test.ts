import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequenceTemplates, type TemplateContext } from '../../src/sequences/templates.js';

const contexts: TemplateContext[] = [
  { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', unsubscribe_url: 'https://example.com/u/1.abc/', app_url: 'https://example.com' },
  { email: 'o\'brien+x@example.com', first_name: '<b>"Tom" & \'Jerry\'</b>', last_name: '', unsubscribe_url: 'https://example.com/u/2.a&b=<c>/', app_url: 'https://e.com/?a=1&b="2"' },
];

const sources = [
  'Welcome, {{ first_name }}',
  'Hello {{first_name}} {{ last_name }},\n\nthanks for joining {{ app_url }}.\n\nUnsubscribe: {{ unsubscribe_url }}\n',
  '<p>Hello {{ first_name }} {{ last_name }},</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
  'no variables at all',
  '',
  '  {{- first_name -}}  , {{ email -}}\n  end',
  '{{ first_name | upcase }} and {{ first_name | raw }}',
  '{% if first_name %}Hi {{ first_name }}{% endif %}!',
  '{{ "literal" }} {{ email }}',
];

/** Templates that are only text and `{{ variable }}` render by joining parts; the result must be Liquid's, byte for byte. */
describe('sequence templates: the join of a plain template equals Liquid', () => {
  const templates = new SequenceTemplates();
  for (const kind of ['plain', 'html'] as const) {
    for (const source of sources) {
      it(`${kind}: ${JSON.stringify(source)}`, () => {
        const parsed = templates.compile(source, kind);
        const liquidOnly = { liquid: parsed.liquid, parts: undefined };
        for (const context of contexts) {
          assert.equal(templates.render(parsed, kind, context), templates.render(liquidOnly, kind, context));
        }
      });
    }
  }

  it('joins the templates a drain sends and leaves tags and filters to Liquid', () => {
    assert.ok(templates.compile(sources[1] ?? '', 'plain').parts);
    assert.ok(templates.compile(sources[2] ?? '', 'html').parts);
    assert.ok(templates.compile(sources[5] ?? '', 'plain').parts, 'whitespace control is the same text');
    assert.equal(templates.compile(sources[6] ?? '', 'html').parts, undefined);
    assert.equal(templates.compile(sources[7] ?? '', 'plain').parts, undefined);
    assert.equal(templates.compile(sources[8] ?? '', 'plain').parts, undefined);
  });
});
