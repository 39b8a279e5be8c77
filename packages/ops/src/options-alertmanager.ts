import { DEFAULT_OPS_OPTIONS } from './defaults.js';
import { checkKeys, duration, fail, LABEL_NAME_RE, parseDuration, str, strList } from './options.js';
import type { OpsOptions, ResolvedOpsOptions } from './types.js';

/** `alertmanager`: the alertmanager.yml receivers, routing intervals and grouping. */
export function resolveAlertmanagerOptions(
  input: OpsOptions['alertmanager'],
): ResolvedOpsOptions['alertmanager'] {
  const a = checkKeys('alertmanager', input, [
    'webhookUrl',
    'slackApiUrlFile',
    'pagerdutyRoutingKeyFile',
    'slackChannels',
    'email',
    'groupBy',
    'repeatInterval',
    'groupWait',
    'groupInterval',
    'symptomWait',
  ]);
  const webhookUrl =
    a.webhookUrl === undefined ? undefined : str('alertmanager.webhookUrl', a.webhookUrl, '');
  if (webhookUrl !== undefined && !/^https?:\/\//.test(webhookUrl))
    fail('alertmanager.webhookUrl must be an http(s) URL.');
  const sc = checkKeys('alertmanager.slackChannels', a.slackChannels, ['critical', 'warning', 'info']);
  const em = checkKeys('alertmanager.email', a.email, [
    'to',
    'from',
    'smarthost',
    'authUsername',
    'authPasswordFile',
  ]);
  const ri = checkKeys('alertmanager.repeatInterval', a.repeatInterval, ['critical', 'warning', 'info']);
  const DA = DEFAULT_OPS_OPTIONS.alertmanager;
  /** A duration per severity, given as one string for all or an object of some. */
  const bySeverity = (
    name: 'groupWait' | 'groupInterval',
    fallback: { critical: string; warning: string; info: string },
  ) => {
    const where = `alertmanager.${name}`;
    const value = a[name];
    if (typeof value === 'string') {
      const all = duration(where, value, '');
      return { critical: all, warning: all, info: all };
    }
    const v = checkKeys(where, value, ['critical', 'warning', 'info']);
    const out = {
      critical: duration(`${where}.critical`, v.critical, fallback.critical),
      warning: duration(`${where}.warning`, v.warning, fallback.warning),
      info: duration(`${where}.info`, v.info, fallback.info),
    };
    for (const [k, d] of Object.entries(out))
      if (name === 'groupInterval' && !(parseDuration(d) > 0))
        fail(`${where}.${k} must be longer than 0s (Alertmanager rejects a zero group_interval).`);
    return out;
  };
  const alertmanager = {
    webhookUrl,
    slackApiUrlFile: str('alertmanager.slackApiUrlFile', a.slackApiUrlFile, DA.slackApiUrlFile),
    pagerdutyRoutingKeyFile: str(
      'alertmanager.pagerdutyRoutingKeyFile',
      a.pagerdutyRoutingKeyFile,
      DA.pagerdutyRoutingKeyFile,
    ),
    slackChannels: {
      critical: str('alertmanager.slackChannels.critical', sc.critical, DA.slackChannels.critical),
      warning: str('alertmanager.slackChannels.warning', sc.warning, DA.slackChannels.warning),
      info: str('alertmanager.slackChannels.info', sc.info, DA.slackChannels.info),
    },
    email: {
      to: str('alertmanager.email.to', em.to, DA.email.to),
      from: str('alertmanager.email.from', em.from, DA.email.from),
      smarthost: str('alertmanager.email.smarthost', em.smarthost, DA.email.smarthost),
      authUsername: str('alertmanager.email.authUsername', em.authUsername, DA.email.authUsername),
      authPasswordFile: str(
        'alertmanager.email.authPasswordFile',
        em.authPasswordFile,
        DA.email.authPasswordFile,
      ),
    },
    groupBy: strList('alertmanager.groupBy', a.groupBy, DA.groupBy),
    repeatInterval: {
      critical: duration('alertmanager.repeatInterval.critical', ri.critical, DA.repeatInterval.critical),
      warning: duration('alertmanager.repeatInterval.warning', ri.warning, DA.repeatInterval.warning),
      info: duration('alertmanager.repeatInterval.info', ri.info, DA.repeatInterval.info),
    },
    groupWait: bySeverity('groupWait', DA.groupWait),
    groupInterval: bySeverity('groupInterval', DA.groupInterval),
    symptomWait: duration('alertmanager.symptomWait', a.symptomWait, DA.symptomWait),
  };
  for (const l of alertmanager.groupBy)
    if (!LABEL_NAME_RE.test(l) && l !== '...') fail(`alertmanager.groupBy "${l}" is not a label name.`);
  return alertmanager;
}
