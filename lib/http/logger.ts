/** JSON logs (pino). One logger per process; request handlers log a child carrying the request id. */
import pino from 'pino';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: { service: 'credits' },
  redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.key'], remove: true },
});

export type Logger = typeof logger;
