// pino, with everything value-like redacted: credentials in headers, bodies, and any field
// whose name says it holds a secret. Request logs carry the path and the query's keys only.
import { type DestinationStream, type Logger, pino } from "pino";

const SECRET_FIELDS = [
  "value",
  "password",
  "token",
  "client_secret",
  "private_key",
  "access_token",
  "refresh_token",
  "credentials",
  "code",
  "state",
  "authorization",
  "cookie",
];

export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "body",
  "req.body",
  "res.body",
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
];

/** Path plus the names of the query parameters, never their values. */
export function loggableUrl(url: string): string {
  const question = url.indexOf("?");
  if (question === -1) return url;
  const keys = [...new URLSearchParams(url.slice(question + 1)).keys()];
  return `${url.slice(0, question)}?${keys.map((key) => `${key}=…`).join("&")}`;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      req(request: { method?: string; url?: string; ip?: string; id?: string }) {
        return { method: request.method, url: loggableUrl(request.url ?? ""), remoteAddress: request.ip };
      },
      res(reply: { statusCode?: number }) {
        return { statusCode: reply.statusCode };
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
