import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';

/** The proxy a URL goes through under HTTP_PROXY / HTTPS_PROXY / NO_PROXY (curl's rules), or null. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | null {
  const raw = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!raw) return null;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(/[\s,]+/).filter(Boolean);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy) {
    if (entry === '*') return null;
    const [name, entryPort] = entry
      .toLowerCase()
      .replace(/^\*?\./, '.')
      .split(/:(?=\d+$)/);
    if (entryPort && entryPort !== port) continue;
    const bare = name.replace(/^\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return null;
  }
  return new URL(raw.includes('://') ? raw : `http://${raw}`);
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/**
 * Starts a GET of `url` with Node's own http/https modules, through the environment's proxy:
 * plain HTTP is sent to the proxy in absolute form, HTTPS goes through a CONNECT tunnel.
 */
export function startGet(url: URL, headers: Record<string, string>, onResponse: (res: IncomingMessage) => void): ClientRequest {
  const proxy = proxyFor(url);
  const agent: Agent | false = false; // one connection a request: a server closing after each body cannot confuse a pool
  const options: RequestOptions = { method: 'GET', headers: { ...headers, host: url.host }, agent };
  if (!proxy) {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return send(url, options, onResponse);
  }
  if (url.protocol === 'http:') {
    return httpRequest(
      { ...options, host: proxy.hostname, port: proxy.port || 80, path: url.href, headers: { ...options.headers, ...proxyAuth(proxy) } },
      onResponse,
    );
  }
  const target = `${url.hostname}:${url.port || 443}`;
  // No agent here: Node uses createConnection only for requests without one.
  const req = httpsRequest(
    url,
    {
      ...options,
      agent: undefined,
      createConnection: (_opts, done) => {
        const headers = { host: target, ...proxyAuth(proxy) };
        const connect = httpRequest({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: target, headers, agent: false });
        connect.once('connect', (res, socket) => {
          if (res.statusCode !== 200) {
            socket.destroy();
            done(new Error(`the proxy ${proxy.host} refused to connect to ${target} (HTTP ${res.statusCode})`), undefined as never);
            return;
          }
          done(null, tlsConnect({ socket, servername: url.hostname }));
        });
        connect.once('error', (e) => done(e, undefined as never));
        connect.end();
        return undefined as never;
      },
    },
    onResponse,
  );
  return req;
}
