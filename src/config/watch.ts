/**
 * Watches a config file for changes. Editors often save by writing a new file and renaming it
 * over the old one, which a watch on the file itself misses, so the directory is watched and
 * events are filtered by name; bursts of events are debounced into one reload. A symlink swap
 * (a Kubernetes ConfigMap replaces its `..data` link) raises no event for the file's name: send
 * SIGHUP after one.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export function watchConfig(file: string, onChange: () => void, debounceMs = 150): FSWatcher {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed && changed.toString() !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.unref();
  return watcher;
}
