// Entry of the SMTP worker thread (src/mail/thread-mailer.ts). Plain
// JavaScript because a worker thread does not inherit the main thread's tsx
// loader: it registers its own, then loads the TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./smtp-thread.ts');
