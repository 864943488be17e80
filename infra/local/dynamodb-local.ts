// DynamoDB Local, the official engine, run with java as a child process. The jar ships inside the
// npm package amplify-dynamodb-simulator; we fetch only that tarball (npm pack, into a git-ignored
// cache) instead of installing the package and its 250+ dependencies. It listens on 127.0.0.1 only
// (through LoopbackDynamoDbLocal.java), answers no cross-origin request, and writes its files
// readable by this user only.
import { createHash } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** The JVM's options, the same for every start and for the class-data archive (the JVM checks). */
export const JAVA_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

export interface Launcher {
  /** The engine's class path: the launcher's jar, the engine's, its libraries. */
  classPath: string;
  /** Where the class-data archive of a trained engine goes (engine-archive.ts); used when present. */
  archive: string;
}

/**
 * Builds, once per version of the launcher's source, what starts the engine (~3 s, javac and jar) in
 * .cache/: the launcher compiled into a jar, and a copy of DynamoDBLocal.jar whose manifest names no
 * class path, with the jars it named listed on the command line instead, in the same order. The
 * original names "." (the engine's directory) and native libraries, and the JVM shares classes
 * (class-data sharing, the archive) only when the class path is jars alone.
 */
export function ensureLauncher(emulator = ensureDynamoDbLocal()): Launcher {
  const source = readFileSync(launcherSource);
  // 'jars': this layout's directories are named apart from those that held the bare class, which
  // the existence check below would otherwise take as built.
  const dir = join(cacheDir, `dynamodb-local-launcher-${createHash('sha256').update(source).update(PACKAGE).update('jars').digest('hex').slice(0, 12)}`);
  const classPathFile = join(dir, 'classpath');
  if (!existsSync(classPathFile)) {
    const work = `${dir}.${process.pid}.tmp`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, 'classes'), { recursive: true });
    const jdk = (tool: string, args: string[], cwd = work) => {
      try {
        execFileSync(tool, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
        if (e.code === 'ENOENT') {
          throw new Error(`${tool} not found: DynamoDB Local is started through a small launcher that binds it to 127.0.0.1 (the jar has no option for that), which needs a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless)`);
        }
        throw new Error(`${tool} ${args.join(' ')} failed:\n${e.stderr?.toString() ?? e.message}`);
      }
    };
    const engineJar = join(emulator, 'DynamoDBLocal.jar');
    jdk('javac', ['-nowarn', '-cp', engineJar, '-d', 'classes', launcherSource]);
    jdk('jar', ['--create', '--file', 'launcher.jar', '-C', 'classes', '.']);
    jdk('jar', ['--extract', '--file', engineJar, 'META-INF/MANIFEST.MF']);
    // Manifest lines go on after a newline and one space.
    const manifest = readFileSync(join(work, 'META-INF', 'MANIFEST.MF'), 'utf8').replace(/\r?\n /g, '');
    const named = /^Class-Path: *(.*)$/m.exec(manifest)?.[1]?.split(' ') ?? [];
    const libraries = named.filter((entry) => entry.endsWith('.jar')).map((entry) => join(emulator, entry));
    copyFileSync(engineJar, join(work, 'DynamoDBLocal.jar'));
    writeFileSync(join(work, 'no-class-path.mf'), 'Class-Path: \n');
    jdk('jar', ['--update', '--file', 'DynamoDBLocal.jar', '--manifest', 'no-class-path.mf']);
    const jars = [join(dir, 'launcher.jar'), join(dir, 'DynamoDBLocal.jar'), ...libraries];
    writeFileSync(join(work, 'classpath'), jars.join(':'));
    for (const scratch of ['classes', 'META-INF', 'no-class-path.mf']) rmSync(join(work, scratch), { recursive: true });
    // Rename into place last: a concurrent start either finds the finished directory or renames its own.
    if (!existsSync(dir)) renameSync(work, dir);
    rmSync(work, { recursive: true, force: true });
  }
  return { classPath: readFileSync(classPathFile, 'utf8'), archive: join(dir, 'engine.jsa') };
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
export async function startDynamoDbLocal(opts: { dbPath?: string; port?: number; pidFile?: string; archiveAtExit?: string } = {}): Promise<DynamoDbLocal> {
  const dir = ensureDynamoDbLocal();
  const { classPath, archive } = ensureLauncher(dir);
  if (opts.pidFile) await stopOrphan(opts.pidFile);
  const port = opts.port ?? (await freePort());
  const storage = opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory'];
  if (opts.dbPath) ensurePrivateDir(opts.dbPath);
  // The archive spares a start most of its class loading (engine-archive.ts); one this JVM cannot use
  // is passed over, with a warning in the engine's output.
  const sharing = opts.archiveAtExit ? [`-XX:ArchiveClassesAtExit=${opts.archiveAtExit}`] : existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : [];
  const java = [
    ...JAVA_OPTIONS,
    ...sharing,
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-cp', classPath,
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
