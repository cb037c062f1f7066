// Two error classes, as in the Graph SDK: one for what the service said, one for what we were
// given. Neither ever carries request headers or secret values.

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
  constructor(message: string) {
    super(message);
    this.name = "MimecastConfigError";
  }
}

/**
 * The authentication-profile operation does not exist for this account. The sync fails closed:
 * nothing was written, and the message carries the manual checklist.
 */
export class ProfileContractUnavailableError extends Error {
  constructor(message: string, readonly checklist: string) {
    super(message);
    this.name = "ProfileContractUnavailableError";
  }
}

/** Replace every occurrence of each secret (and its base64 / URL-encoded forms) with "***". */
export class Redactor {
  private readonly needles: string[] = [];

  add(...secrets: (string | undefined)[]): this {
    for (const s of secrets) {
      if (!s || s.length < 4) continue;
      for (const form of [s, encodeURIComponent(s), Buffer.from(s).toString("base64")]) {
        if (!this.needles.includes(form)) this.needles.push(form);
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.needles.sort((a, b) => b.length - a.length);
    return this;
  }

  redact(text: string): string {
    let out = text;
    for (const n of this.needles) out = out.split(n).join("***");
    // Bearer tokens and MC signatures are secrets we did not configure but must not print either.
    return out.replace(/(Bearer|MC)\s+[A-Za-z0-9._~+/=:-]+/g, "$1 ***");
  }
}
