import { type OptionRule, rules } from '@deia/options';
import { DeiaHealthError } from './errors.js';

/** Throws the coded error of bad `createHealth` / check options. */
export const failOptions = (message: string): never => {
  throw new DeiaHealthError('DEIA_HEALTH_OPTIONS', message);
};

/** Throws the coded error of bad `createShutdown` options. */
export const failShutdown = (message: string): never => {
  throw new DeiaHealthError('DEIA_SHUTDOWN_OPTIONS', message);
};

/** The settings every check takes (`CheckOptions`). */
export const CHECK_OPTIONS_SCHEMA = {
  critical: rules.boolean(),
  timeoutMs: rules.number('a positive number', { min: 0, exclusive: true }),
  failureThreshold: rules.number('a positive integer', { min: 1, integer: true }),
} as const satisfies Record<string, OptionRule>;

/** The names of the settings every check takes. */
export const CHECK_OPTION_KEYS = Object.keys(CHECK_OPTIONS_SCHEMA) as ReadonlyArray<
  keyof typeof CHECK_OPTIONS_SCHEMA
>;
