import { Liquid, TokenKind, type Template } from 'liquidjs';

/** The variables a sequence template may use. */
export const TEMPLATE_VARIABLES = ['email', 'first_name', 'last_name', 'unsubscribe_url', 'app_url'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateContext = Readonly<Record<TemplateVariable, string>>;

const SAMPLE: TemplateContext = {
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
  unsubscribe_url: 'https://example.com/api/v1/unsubscribe/token/',
  app_url: 'https://example.com',
};

/** No includes, renders or layouts: templates come from the database, never from files. */
const noFiles = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file: string) => {
    throw new Error(`templates cannot include files (${file})`);
  },
  readFileSync: (file: string): string => {
    throw new Error(`templates cannot include files (${file})`);
  },
  resolve: (_root: string, file: string) => file,
};

function engine(escape: boolean): Liquid {
  return new Liquid({
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    fs: noFiles,
    root: [],
    relativeReference: false,
    // Bounds, so an operator's template cannot stall a tick.
    parseLimit: 100_000,
    renderLimit: 1_000,
    memoryLimit: 10_000_000,
    ...(escape ? { outputEscape: 'escape' as const } : {}),
  });
}

/**
 * A parsed template. `parts` is the same template as text and variable
 * names when it is nothing else (no tags, no filters: `Hello {{ first_name }}`,
 * most sequence mail): rendering it is then a join, with the HTML escaping
 * Liquid's own `escape` filter applies, instead of Liquid's interpreter — a
 * sequence drain renders three templates per mail on the thread that serves
 * requests. Anything else renders through Liquid.
 */
export interface ParsedTemplate {
  readonly liquid: Template[];
  readonly parts: readonly (string | { readonly variable: TemplateVariable })[] | undefined;
}

/** Liquid's `escape` filter (liquidjs): the five characters, the same entities. */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

/** Text and variables of a parsed template, or undefined when it has anything else (tags, filters, property access). */
function plainParts(templates: readonly Template[]): ParsedTemplate['parts'] {
  const parts: (string | { variable: TemplateVariable })[] = [];
  for (const template of templates) {
    const token = template.token as { kind: TokenKind; getContent?: () => string; content?: unknown };
    if (token.kind === TokenKind.HTML && typeof token.getContent === 'function') {
      parts.push(token.getContent());
    } else if (token.kind === TokenKind.Output && typeof token.content === 'string' && (TEMPLATE_VARIABLES as readonly string[]).includes(token.content)) {
      parts.push({ variable: token.content as TemplateVariable });
    } else {
      return undefined;
    }
  }
  return parts;
}

/** A template refused at save time, with a message naming the problem. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Parsed Liquid templates: plain text (subject, text) and HTML-escaped (html). */
export class SequenceTemplates {
  private readonly plain = engine(false);
  private readonly html = engine(true);

  /**
   * Parses `source` and renders it once against a sample context. Throws
   * TemplateError for a parse error, a variable outside TEMPLATE_VARIABLES
   * (or a property of one), an unknown filter, or a render error.
   */
  check(source: string, kind: 'plain' | 'html'): void {
    const template = this.compile(source, kind);
    const liquid = kind === 'html' ? this.html : this.plain;
    let names: string[];
    try {
      names = liquid.globalFullVariablesSync(template.liquid);
    } catch (error) {
      throw new TemplateError(messageOf(error), { cause: error });
    }
    const unknown = names.filter((name) => !(TEMPLATE_VARIABLES as readonly string[]).includes(name));
    if (unknown.length > 0) {
      throw new TemplateError(`unknown variable ${unknown.map((name) => `{{${name}}}`).join(', ')}; allowed: ${TEMPLATE_VARIABLES.map((name) => `{{${name}}}`).join(', ')}`);
    }
    this.render(template, kind, SAMPLE);
  }

  /** Parses a template (already checked at save time). */
  compile(source: string, kind: 'plain' | 'html'): ParsedTemplate {
    let liquid: Template[];
    try {
      liquid = (kind === 'html' ? this.html : this.plain).parse(source);
    } catch (error) {
      throw new TemplateError(messageOf(error), { cause: error });
    }
    return { liquid, parts: plainParts(liquid) };
  }

  /** Renders a parsed template; in `html` every output is HTML-escaped unless the template says `| raw`. */
  render(template: ParsedTemplate, kind: 'plain' | 'html', context: TemplateContext): string {
    if (template.parts !== undefined) {
      let out = '';
      for (const part of template.parts) {
        if (typeof part === 'string') out += part;
        else out += kind === 'html' ? escapeHtml(context[part.variable]) : context[part.variable];
      }
      return out;
    }
    try {
      return (kind === 'html' ? this.html : this.plain).renderSync(template.liquid, context) as string;
    } catch (error) {
      throw new TemplateError(messageOf(error), { cause: error });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
}
