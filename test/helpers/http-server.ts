import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'file'; body: Buffer; headers?: Record<string, string> }
  /** Sends the first `after` bytes of the first request, then destroys the connection. */
  | { kind: 'drop-once'; body: Buffer; after: number }
  | { kind: 'status'; status: number }
  /** Accepts the request and never answers. */
  | { kind: 'hang' };

/** A local HTTP server on 127.0.0.1 (random port) with Range support, for download tests. */
export class TestServer {
  readonly requests: { path: string; range?: string }[] = [];
  private server!: Server;
  private readonly dropped = new Set<string>();
  private readonly hanging = new Set<ServerResponse>();

  constructor(private readonly routes: Record<string, Behaviour>) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push({ path, range: req.headers.range });
    const route = this.routes[path];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    switch (route.kind) {
      case 'status':
        res.writeHead(route.status).end();
        return;
      case 'hang':
        this.hanging.add(res);
        return;
      case 'file':
        sendRange(req, res, route.body, route.headers);
        return;
      case 'drop-once':
        if (!this.dropped.has(path)) {
          this.dropped.add(path);
          res.writeHead(200, { 'content-length': String(route.body.length) });
          res.write(route.body.subarray(0, route.after), () => setTimeout(() => res.socket?.destroy(), 20));
          return;
        }
        sendRange(req, res, route.body);
    }
  }
}

function sendRange(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string> = {}): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-length': String(body.length - start), 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}
