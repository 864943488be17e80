// DATA_DIR holds the dev issuer's signing key, the local secrets and the demo's personal data, so
// only its owner may read it: the directory and every directory under it 0700, every file 0600.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
/** Pass as `{ mode }` to every write that may create a file under DATA_DIR. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) 0700. A directory that exists already must belong to this
 * user; anything in it that group or others can reach (e.g. a DATA_DIR from before this rule) is
 * tightened, so a restart never leaves an old key or database readable.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const uid = process.getuid?.();
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`DATA_DIR ${dir} is not a directory`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`DATA_DIR ${dir} belongs to uid ${st.uid}, not to this user (${uid}): choose a directory of your own`);
  tighten(dir, st.mode);
}

function tighten(path: string, mode: number): void {
  const isDir = (mode & 0o170000) === 0o040000;
  if (mode & 0o077) chmodSync(path, isDir ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE);
  if (!isDir) return;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    try {
      const st = lstatSync(child);
      if (!st.isSymbolicLink()) tighten(child, st.mode); // a link's target is not ours to change
    } catch (e) {
      // Gone since the listing: a runtime already running on this DATA_DIR writes its stream
      // checkpoints to a temporary file and renames it into place, many times a second.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
