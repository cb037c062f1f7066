// Two error families, as in the Graph SDK: what the service said (MimecastApiError), and what we
// were given (MimecastConfigError). Neither ever carries request headers or secret values.

/** Mimecast (or the network on the way) refused or failed a call. */
export class MimecastApiError extends Error {
  constructor(
    message: string,
    readonly operation: string,
    readonly status?: number,
    readonly code?: string,
    readonly requestId?: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = "MimecastApiError";
  }
}

/** Bad configuration or misuse: fix the input, do not retry. */
export class MimecastConfigError extends Error {
  constructor(message: string, readonly operation?: string) {
    super(message);
    this.name = "MimecastConfigError";
  }
}

/**
 * The authentication-profile operation does not exist for this account (HTTP 404). The sync
 * fails closed: nothing was written, and `checklist` holds the manual steps.
 */
export class ProfileOperationUnavailableError extends MimecastApiError {
  constructor(message: string, operation: string, readonly checklist: string, requestId?: string) {
    super(message, operation, 404, "operation_unavailable", requestId);
    this.name = "ProfileOperationUnavailableError";
  }
}
