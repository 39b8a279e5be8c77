/** An error the API turns into a JSON response with `code` and `statusCode`. */
export class BotCoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 500,
  ) {
    super(message);
    this.name = 'BotCoreError';
  }
}

/** The database is unreachable (the controller is in degraded mode). */
export class DatabaseUnavailableError extends BotCoreError {
  constructor() {
    super('DATABASE_UNAVAILABLE', 'the database is unavailable; the service is in degraded mode', 503);
  }
}
