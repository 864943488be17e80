// The console as the local runtime serves it: console/dist (built by Vite when missing or older than
// its sources), console-config.json generated for this runtime, the same security headers as
// CloudFront. Asked only for paths no API route matches (api-server.ts), so it never shadows one.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { CONSOLE_CONFIG_FILE, type ConsoleConfig } from '../../schemas/console.ts';
import { consoleCsp, consoleHeaders } from '../console-headers.ts';
import type { Reply } from './api-server.ts';
import { projectRoot } from './dynamodb-local.ts';

export const consoleDist = join(projectRoot, 'console', 'dist');
/** What the console bundle is built from: its own sources and what it imports from the rest of the repo. */
const inputs = ['console', 'schemas', 'events', 'package-lock.json'];

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).filter((f) => f !== 'dist' && f !== 'node_modules').map((f) => newest(join(path, f))));
}

/** Whether console/dist is missing or older than any of its sources. */
export function consoleIsStale(): boolean {
  const built = join(consoleDist, 'index.html');
  if (!existsSync(built)) return true;
  return Math.max(...inputs.map((i) => newest(join(projectRoot, i)))) > statSync(built).mtimeMs;
}

/** Builds the console with Vite (in this process) when it is stale; returns whether it built. */
export async function ensureConsoleBuilt(log: (line: string) => void = () => undefined): Promise<boolean> {
  if (!consoleIsStale()) return false;
  log('building the console (console/dist is missing or older than its sources)…');
  const { build } = await import('vite');
  await build({ configFile: join(projectRoot, 'console', 'vite.config.ts'), logLevel: 'warn' });
  return true;
}

export function consoleFiles(config: (url: URL) => ConsoleConfig) {
  return (method: string, url: URL): Reply | undefined => {
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const headers = {
      ...consoleHeaders,
      // The local identity provider shares the console's origin, so 'self' covers it here.
      'content-security-policy': consoleCsp({ connect: [] }),
    };
    if (url.pathname === `/${CONSOLE_CONFIG_FILE}`) {
      return { statusCode: 200, headers: { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(config(url)) };
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = normalize(join(consoleDist, rel));
    if (!file.startsWith(consoleDist + sep) || !existsSync(file) || !statSync(file).isFile()) {
      if (url.pathname === '/' ) {
        return { statusCode: 503, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'The console is not built: npm start builds it (or npx vite build --config console/vite.config.ts).\n' };
      }
      return undefined;
    }
    // Hashed assets never change; index.html must be fetched fresh to pick up a new build.
    const cache = rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return { statusCode: 200, headers: { ...headers, 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': cache }, body: readFileSync(file) };
  };
}
