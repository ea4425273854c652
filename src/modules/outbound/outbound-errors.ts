// Why an outbound request did not produce an answer. Messages are written for the person who
// set the URL; they never hold a response body, a header value or a token.

export type OutboundFailure = "invalid-url" | "scheme" | "userinfo" | "address" | "dns" | "connect" | "timeout" | "too-large" | "redirect";

export class OutboundError extends Error {
  constructor(
    readonly failure: OutboundFailure,
    message: string,
    /** The HTTP status when the server answered (a redirect). */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = "OutboundError";
  }
}

export function isOutboundError(error: unknown): error is OutboundError {
  return error instanceof OutboundError;
}

/** Origin and path of a URL for messages: the query string could carry something private. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
