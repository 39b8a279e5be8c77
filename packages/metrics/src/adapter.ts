/**
 * `@deia/metrics/adapter`: the framework-neutral HTTP core and the helpers adapter authors build on
 * (`@deia/express`, `@deia/fastify`, or your own framework's). Applications use the package root.
 */

// The options contract's schema rules, for an adapter's own options (`createHttpObserver`'s `extra`).
export { type OptionRule, type OptionsSchema, rules } from '@deia/options';
export {
  createHttpObserver,
  foldMethod,
  type HttpObserver,
  PATH_EXCLUDED,
  PATH_RECORD,
  PATH_SERVED,
  type PathKind,
  type RouteResolver,
} from './http.js';
// HttpObservabilityOptions, HttpRequestInfo, HttpResponse and DEFAULT_HTTP_OPTIONS are exported
// once, from the package root.
export {
  HTTP_OPTIONS_SCHEMA,
  SHUTDOWN_OPTION_RULE,
  SHUTDOWN_SETTINGS_KEYS,
  validateHttpOptions,
} from './http-options.js';
export { validateBuckets, validateDefinition } from './validate.js';
