import type { RouteModule } from '../context.js';
import { activateRoutes } from './activate.js';
import { cronStatusRoutes } from './cron-status.js';
import { cronRoutes } from './cron.js';
import { healthRoutes } from './health.js';
import { jwksRoutes } from './jwks.js';
import { loginRoutes } from './login.js';
import { meRoutes } from './me.js';
import { verifyRoutes } from './verify.js';
import { metricsRoutes } from './metrics.js';
import { registerRoutes } from './register.js';
import { presenceRoutes } from './presence.js';
import { demoRoutes } from './demo.js';
import { wsRoutes } from './presence-socket.js';
import { sessionRoutes } from './sessions.js';
import { adminRoutes } from './admin.js';
import { accountRecoveryRoutes } from './account-recovery.js';
import { accountSettingsRoutes } from './account-settings.js';
import { adminUserRoutes } from './admin-users.js';
import { sequenceRoutes } from './sequences.js';
import { unsubscribeRoutes } from './unsubscribe.js';
import { adminClientRoutes } from './admin-clients.js';
import { introspectRoutes } from './introspect.js';
import { adminJobRoutes } from './admin-jobs.js';
import { adminRunRoutes } from './admin-runs.js';
import { adminOverviewRoutes } from './admin-overview.js';

/** Route groups that accept urlencoded and multipart forms (registered in a scope with those parsers). */
export const formRouteModules: readonly RouteModule[] = [registerRoutes, loginRoutes, unsubscribeRoutes, introspectRoutes];

/** Every other route group, in registration order (JSON bodies only). Add one line per new file. */
export const routeModules: readonly RouteModule[] = [healthRoutes, activateRoutes, cronRoutes, cronStatusRoutes, metricsRoutes, meRoutes, verifyRoutes, jwksRoutes, presenceRoutes, demoRoutes, wsRoutes, sessionRoutes, adminRoutes, accountRecoveryRoutes, accountSettingsRoutes, adminUserRoutes, sequenceRoutes, adminClientRoutes, adminJobRoutes, adminRunRoutes, adminOverviewRoutes];
