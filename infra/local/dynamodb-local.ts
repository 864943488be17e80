// DynamoDB Local, the official engine, run with java as a child process. The jar ships inside the
// npm package amplify-dynamodb-simulator; we fetch only that tarball (npm pack, into a git-ignored
// cache) instead of installing the package and its 250+ dependencies. It listens on 127.0.0.1 only
// (through LoopbackDynamoDbLocal.java), answers no cross-origin request, and writes its files
// readable by this user only.
import { createHash } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-dir.ts';

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
export const projectRoot = resolve(import.meta.dirname, '../..');
const cacheDir = join(projectRoot, '.cache');
const emulatorDir = join(cacheDir, 'dynamodb-local');

/** Fetches and unpacks DynamoDBLocal.jar once; later calls return at once. */
export function ensureDynamoDbLocal(): string {
  const jar = join(emulatorDir, 'DynamoDBLocal.jar');
  if (existsSync(jar)) return emulatorDir;
  mkdirSync(cacheDir, { recursive: true });
  const work = join(cacheDir, `fetch-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  process.stderr.write(`fetching DynamoDB Local (${PACKAGE}, ~57 MB) into .cache/ ...\n`);
  execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${PACKAGE} produced no tarball`);
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/emulator']);
  // Rename into place last, so an interrupted fetch never leaves a half-extracted emulator behind.
  if (!existsSync(jar)) renameSync(join(work, 'package', 'emulator'), emulatorDir);
  rmSync(work, { recursive: true, force: true });
  return emulatorDir;
}

const launcherSource = join(import.meta.dirname, 'LoopbackDynamoDbLocal.java');

/**
 * Compiles the loopback launcher once per version of its source (javac, ~2 s) into .cache/ and
 * returns the directory holding the class.
 */
export function ensureLoopbackLauncher(emulator = ensureDynamoDbLocal()): string {
  const source = readFileSync(launcherSource);
  const dir = join(cacheDir, `dynamodb-local-launcher-${createHash('sha256').update(source).update(PACKAGE).digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, 'LoopbackDynamoDbLocal.class'))) return dir;
  const work = `${dir}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  try {
    execFileSync('javac', ['-nowarn', '-cp', join(emulator, 'DynamoDBLocal.jar'), '-d', work, launcherSource], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error('javac not found: DynamoDB Local is started through a small launcher that binds it to 127.0.0.1 (the jar has no option for that), which needs a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless)');
    }
    throw new Error(`compiling ${launcherSource} failed:\n${e.stderr?.toString() ?? e.message}`);
  }
  // Rename into place last: a concurrent start either finds the finished class or renames its own.
  if (!existsSync(dir)) renameSync(work, dir);
  rmSync(work, { recursive: true, force: true });
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export interface DynamoDbLocal {
  endpoint: string;
  process: ChildProcess;
  /** The engine's JVM (`process` is the watchdog shell that started it). */
  enginePid: number;
  stop(): Promise<void>;
}

/**
 * The engine runs in a process group of its own, under a small shell that stops it with SIGTERM when
 * its stdin closes, that is when whoever started it dies, even by SIGKILL. So a runtime killed with
 * -9 leaves no JVM behind, and the engine always shuts down gracefully, as a database outliving its
 * clients would: DynamoDB Local acknowledges a TransactWriteItems a moment before it is durable
 * (SIGKILL of the engine under 12 concurrent writers lost the last acknowledged transaction in 5 of 12
 * runs; SIGTERM, or SIGKILL after 2 s of quiet, lost none), which DynamoDB itself never does.
 */
const WATCHDOG = [
  // umask 077: the database files are this user's only.
  'umask 077',
  'java "$@" </dev/null & pid=$!',
  'echo "java pid $pid"',
  'trap \'kill -TERM $pid 2>/dev/null\' TERM INT',
  'read -r _',
  'kill -TERM $pid 2>/dev/null',
  'while kill -0 $pid 2>/dev/null; do wait $pid; done',
].join('\n');

/** Starts the engine on a free port; `dbPath` keeps data across restarts, without it data is in memory. */
export async function startDynamoDbLocal(opts: { dbPath?: string; port?: number; pidFile?: string } = {}): Promise<DynamoDbLocal> {
  const dir = ensureDynamoDbLocal();
  const launcher = ensureLoopbackLauncher(dir);
  if (opts.pidFile) await stopOrphan(opts.pidFile);
  const port = opts.port ?? (await freePort());
  const storage = opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory'];
  if (opts.dbPath) ensurePrivateDir(opts.dbPath);
  const java = [
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-cp', `${launcher}:${join(dir, 'DynamoDBLocal.jar')}`,
    'LoopbackDynamoDbLocal',
    '-port', String(port),
    '-sharedDb',
    '-disableTelemetry',
    // An empty allow-list: no web page may call it (the documented default is '*', public access).
    '-cors', '',
    ...storage,
  ];
  const child = spawn('sh', ['-c', WATCHDOG, 'dynamodb-local', ...java], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, child, () => output);
  child.stdout!.removeAllListeners('data');
  child.stdout!.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const javaPid = Number(/java pid (\d+)/.exec(output)?.[1]);
  if (opts.pidFile && javaPid) writeFileSync(opts.pidFile, String(javaPid), { mode: PRIVATE_FILE_MODE });
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  return {
    endpoint,
    process: child,
    enginePid: javaPid,
    async stop() {
      if (child.exitCode === null) group('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) group('SIGKILL');
      if (opts.pidFile) rmSync(opts.pidFile, { force: true });
    },
  };
}

/**
 * An engine whose runtime died stops by itself (the watchdog above); if one still holds the data
 * directory's database (its watchdog was killed too), the next start ends it, gracefully first.
 */
async function stopOrphan(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const alive = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal');
    } catch {
      return false; // not running (or no /proc)
    }
  };
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!(pid > 0 && alive())) break;
    process.kill(pid, signal);
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(pidFile, { force: true });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}):\n${output()}`);
    try {
      // Any HTTP answer means the engine is listening (it answers 400 to an unsigned request).
      await fetch(endpoint, { method: 'POST' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
  throw new Error(`DynamoDB Local did not start within 60 s:\n${output()}`);
}
