import type { OutgoingMail } from '../mail/mailer.js';
import type { SendDetails } from '../db/repositories/sequence-sends.js';
import type { Template } from 'liquidjs';
import type { SequenceTemplates, TemplateContext } from './templates.js';
import { unsubscribeUrl, type UnsubscribeTokens } from './unsubscribe-token.js';

interface CompiledStep {
  readonly updatedAt: number;
  readonly subject: Template[];
  readonly text: Template[];
  readonly html: Template[] | null;
}

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
 * Renders a step for one recipient: Liquid templates (parsed once per step
 * version), the unsubscribe link and RFC 8058 headers, the send id as the
 * Message-ID's local part.
 */
export class MessageBuilder {
  private readonly compiled = new Map<number, CompiledStep>();

  constructor(private readonly options: MessageBuilderOptions) {}

  /** The message for a claimed send; throws TemplateError if a stored template no longer renders. */
  build(send: SendDetails & { step_id: number; subject: string; text: string }): OutgoingMail {
    const { templates, tokens, publicUrl } = this.options;
    const step = this.step(send);
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

  private step(send: SendDetails & { step_id: number; subject: string; text: string }): CompiledStep {
    const cached = this.compiled.get(send.step_id);
    const updatedAt = Number(send.step_updated_at ?? 0);
    if (cached !== undefined && cached.updatedAt === updatedAt) return cached;
    const { templates } = this.options;
    const compiled: CompiledStep = {
      updatedAt,
      subject: templates.compile(send.subject, 'plain'),
      text: templates.compile(send.text, 'plain'),
      html: send.html === null ? null : templates.compile(send.html, 'html'),
    };
    this.compiled.set(send.step_id, compiled);
    return compiled;
  }
}

/** `<42@example.com>` for send 42. */
export function messageIdFor(sendId: number, domain: string): string {
  return `<${sendId}@${domain}>`;
}
