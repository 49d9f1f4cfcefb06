/**
 * Small atomic-file helpers for the home directory's own files (master key, daemon address,
 * tokens). Records go through the storage driver instead.
 */
import { chmod, link, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { randomToken } from "./crypto.ts";

/** Creates a directory (and parents) with mode 0700. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

async function writeTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  await ensurePrivateDir(dirname(path));
  const temp = `${path}.tmp-${process.pid}-${randomToken(6)}`;
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(temp, mode);
  return temp;
}

/** Writes a file atomically (temp file, fsync, rename): readers see the old or the new content. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Creates a file with its full content only if it does not exist yet (temp file + link, so a
 * concurrent reader never sees it half-written). Returns false when it already existed.
 */
export async function createFileExclusive(path: string, data: string | Uint8Array, mode = 0o600): Promise<boolean> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}
