import type { OutgoingMail } from '../mail/mailer.js';
import type { SendDetails } from '../db/repositories/sequence-sends.js';
import type { ParsedTemplate, SequenceTemplates, TemplateContext } from './templates.js';
import { unsubscribeUrl, type UnsubscribeTokens } from './unsubscribe-token.js';

interface ParsedStep {
  readonly subject: ParsedTemplate;
  readonly text: ParsedTemplate;
  readonly html: ParsedTemplate | null;
}

/** A step version's bodies, parsed on first use (a template that no longer parses fails its sends, not the tick). */
interface KnownStep {
  readonly updatedAt: number;
  readonly bodies: StepBodies;
  parsed?: ParsedStep;
}

/** A step's stored bodies at one version (its `updated_at`). */
export interface StepBodies {
  readonly id: number;
  readonly updated_at: number;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
}

/** A claimed send whose step exists. */
export type BuildableSend = SendDetails & { step_id: number };

export interface MessageBuilderOptions {
  readonly templates: SequenceTemplates;
  readonly tokens: UnsubscribeTokens;
  readonly from: string;
  readonly publicUrl: string;
  /** Message-IDs are `<send id@messageIdDomain>`: the send id is the local part. */
  readonly messageIdDomain: string;
}

function profileNames(profile: string): { first: string; last: string } {
  try {
    const parsed = JSON.parse(profile) as Record<string, unknown>;
    const first = parsed['first_name'];
    const last = parsed['last_name'];
    return { first: typeof first === 'string' ? first : '', last: typeof last === 'string' ? last : '' };
  } catch {
    return { first: '', last: '' };
  }
}

/**
 * Renders a step for one recipient: Liquid templates (read and parsed once
 * per step version: `missing` says which steps to read, `learn` takes them),
 * the unsubscribe link and RFC 8058 headers, the send id as the Message-ID's
 * local part.
 */
export class MessageBuilder {
  private readonly steps = new Map<number, KnownStep>();

  constructor(private readonly options: MessageBuilderOptions) {}

  /** The step ids among `sends` whose bodies are not known at (at least) the version each send names. */
  missing(sends: readonly BuildableSend[]): number[] {
    const ids = new Set<number>();
    for (const send of sends) if (!this.knows(send)) ids.add(send.step_id);
    return [...ids];
  }

  /** True when `build` can render this send's step. */
  knows(send: BuildableSend): boolean {
    const known = this.steps.get(send.step_id);
    return known !== undefined && known.updatedAt >= Number(send.step_updated_at ?? 0);
  }

  /** Keeps step bodies read from the database (a newer version replaces an older one). */
  learn(steps: readonly StepBodies[]): void {
    for (const step of steps) {
      const known = this.steps.get(step.id);
      if (known !== undefined && known.updatedAt >= step.updated_at) continue;
      this.steps.set(step.id, { updatedAt: step.updated_at, bodies: step });
    }
  }

  /** The message for a claimed send whose step `learn` took; throws TemplateError if a stored template no longer renders. */
  build(send: BuildableSend): OutgoingMail {
    const { templates, tokens, publicUrl } = this.options;
    const step = this.parsed(send.step_id);
    const names = profileNames(send.profile);
    const link = unsubscribeUrl(publicUrl, tokens.issue(send.user_id));
    const context: TemplateContext = { email: send.email, first_name: names.first, last_name: names.last, unsubscribe_url: link, app_url: publicUrl };
    return {
      from: this.options.from,
      to: send.email,
      subject: templates.render(step.subject, 'plain', context),
      text: templates.render(step.text, 'plain', context),
      html: step.html === null ? undefined : templates.render(step.html, 'html', context),
      messageId: messageIdFor(send.id, this.options.messageIdDomain),
      headers: { 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    };
  }

  private parsed(stepId: number): ParsedStep {
    const known = this.steps.get(stepId);
    if (known === undefined) throw new Error(`step ${stepId} was not read before building its message`);
    if (known.parsed !== undefined) return known.parsed;
    const { templates } = this.options;
    const { subject, text, html } = known.bodies;
    known.parsed = { subject: templates.compile(subject, 'plain'), text: templates.compile(text, 'plain'), html: html === null ? null : templates.compile(html, 'html') };
    return known.parsed;
  }
}

/** `<42@example.com>` for send 42. */
export function messageIdFor(sendId: number, domain: string): string {
  return `<${sendId}@${domain}>`;
}
