/** Named store errors; the query API maps each to one HTTP answer. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The entity does not exist, or is outside the caller's company. */
export class NotFoundError extends StoreError {}

/** The database cannot be reached or refused the write; retrying later may work. */
export class StoreUnavailableError extends StoreError {}

/** A cursor that this store did not issue. */
export class InvalidCursorError extends StoreError {}

/** A unique name is already taken (e.g. an API key name). */
export class ConflictError extends StoreError {}

/** A search (`q`) that cannot be read; the message names the problem. */
export class InvalidSearchError extends StoreError {}
