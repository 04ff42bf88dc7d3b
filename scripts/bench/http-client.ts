/**
 * A minimal HTTP/1.1 keep-alive client for the benchmarks: one request at a time per connection, written as
 * one string and parsed with no more than finding the header end and the length. A benchmark's load generator
 * shares the machine with the server it measures, so it must cost as little CPU per request as possible;
 * fetch (undici) costs several times more.
 */
import net from 'node:net';

export type HttpAnswer = { status: number; body: string };

export class HttpConnection {
  private socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void } | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly headers: Record<string, string>,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (err: Error) => {
      const w = this.waiting;
      this.waiting = null;
      w?.reject(err);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed')));
  }

  request(method: string, path: string, body?: string): Promise<HttpAnswer> {
    if (this.waiting) return Promise.reject(new Error('one request at a time per connection'));
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(this.headers)) head += `${k}: ${v}\r\n`;
    const payload = body === undefined ? '' : body;
    head += `content-length: ${Buffer.byteLength(payload)}\r\n\r\n`;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(head + payload);
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private parse(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end === -1 || !this.waiting) return;
    const head = this.buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const lengthAt = lower.indexOf('\r\ncontent-length:');
    let body: string;
    let consumed: number;
    if (lengthAt !== -1) {
      const lineEnd = lower.indexOf('\r\n', lengthAt + 2);
      const length = parseInt(lower.slice(lengthAt + 17, lineEnd === -1 ? undefined : lineEnd), 10);
      if (this.buffer.length < end + 4 + length) return;
      body = this.buffer.toString('utf8', end + 4, end + 4 + length);
      consumed = end + 4 + length;
    } else if (lower.includes('\r\ntransfer-encoding: chunked')) {
      const decoded = decodeChunked(this.buffer, end + 4);
      if (!decoded) return;
      [body, consumed] = decoded;
    } else {
      body = '';
      consumed = end + 4;
    }
    this.buffer = this.buffer.subarray(consumed);
    const w = this.waiting;
    this.waiting = null;
    w.resolve({ status, body });
  }
}

function decodeChunked(buf: Buffer, start: number): [string, number] | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (size === 0) {
      const trailerEnd = buf.indexOf('\r\n', lineEnd + 2);
      if (trailerEnd === -1) return null;
      return [Buffer.concat(parts).toString('utf8'), trailerEnd + 2];
    }
    if (buf.length < lineEnd + 2 + size + 2) return null;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
