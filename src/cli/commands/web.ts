// `adaptc web [-o DIR] [--serve PORT]`: the browser page (examples/web/) as a static site — the bundled examples
// compiled, their sentences tokenized, the page bundled — and optionally served on 127.0.0.1.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSite } from '../../web/build.ts';
import { type Command, EXIT_OK, EXIT_USER_ERROR } from '../command.ts';
import { displayPath } from '../display.ts';
import { reportUserError } from '../errors.ts';

const USAGE = `usage: adaptc web [-o DIR] [--serve PORT]

Builds the browser page into DIR (default: ${join(tmpdir(), 'adaptc-web')}):
  index.html, app.js         the page and its script (the WebGPU runtime, bundled for browsers)
  scenarios.json             the bundled examples' sentences, tokenized, and their heads' labels
  models/<name>/model.json   each example compiled (graph + weight table) …
  models/<name>/weights.bin  … and its weights
The page runs every example on navigator.gpu and shows each head's probabilities, the shapes and the timings.
  --serve PORT   serve DIR on http://127.0.0.1:PORT/ until Ctrl-C (WebGPU needs localhost or https)`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

/** A static file server for `root` on 127.0.0.1; paths outside root are refused. */
export function serveFolder(root: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const inside = file === root || file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
    if (!inside || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(403).end();
      return;
    }
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-store',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(file).pipe(response);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise(server));
  });
}

export const webCommand: Command = {
  name: 'web',
  summary: 'build the browser page (the examples on WebGPU) and optionally serve it',
  usage: USAGE,
  async run(args) {
    let values: { out?: string; serve?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { out: { type: 'string', short: 'o' }, serve: { type: 'string' } },
      }));
    } catch (e) {
      process.stderr.write(`adaptc web: ${(e as Error).message}\n${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    const port = values.serve === undefined ? undefined : Number(values.serve);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
      process.stderr.write(`adaptc web: --serve needs a port number, not '${values.serve}'\n${USAGE}\n`);
      return EXIT_USER_ERROR;
    }
    try {
      const { dir, files } = await buildSite(values.out ?? join(tmpdir(), 'adaptc-web'));
      process.stdout.write(`${displayPath(dir)}: ${files.length} files\n`);
      if (port === undefined) return EXIT_OK;
      const server = await serveFolder(dir, port).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') throw e;
        process.stderr.write(`adaptc web: cannot listen on 127.0.0.1:${port}: ${e.message}\n`);
        return undefined;
      });
      if (server === undefined) return EXIT_USER_ERROR;
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      process.stdout.write(`serving http://127.0.0.1:${actual}/ (Ctrl-C stops)\n`);
      await new Promise<void>((resolveStop) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          server.close(() => resolveStop());
          server.closeAllConnections();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      return EXIT_OK;
    } catch (e) {
      return reportUserError('web', e);
    }
  },
};
