import type { StatisticDefinition } from './statistic';
import { computer } from './statistics/computer';
import { hourOfDay } from './statistics/hour-of-day';
import { localTcpPort } from './statistics/local-tcp-port';
import { newListener } from './statistics/new-listener';
import { processByUser } from './statistics/process-by-user';
import { processEndpoint } from './statistics/process-endpoint';
import { processUsage } from './statistics/process-usage';
import { remoteAddress } from './statistics/remote-address';
import { svchost } from './statistics/svchost';
import { userContext } from './statistics/user-context';

/**
 * Every statistic, in output order: PR-Parser's seven first (as its feature list orders them), then
 * ours. Adding a statistic is adding one file in statistics/, its schema, and a line here.
 */
export const STATISTICS: readonly StatisticDefinition[] = [
  localTcpPort,
  processUsage,
  remoteAddress,
  userContext,
  hourOfDay,
  svchost,
  processByUser,
  newListener,
  processEndpoint,
  computer,
];

export const STATISTIC_NAMES = STATISTICS.map((s) => s.name);

export function findStatistic(name: string): StatisticDefinition | undefined {
  return STATISTICS.find((s) => s.name === name.toLowerCase());
}
