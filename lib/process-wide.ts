/**
 * One value per process, kept on globalThis under `key`: the server loads lib/
 * through tsx while Next's bundle has its own copy of every module, so a
 * module-level value would exist twice (a revoke through the portal would clear
 * a cache the proxy never reads). Also survives dev reloads.
 */
const store = globalThis as typeof globalThis & { gantryProcessWide?: Map<string, unknown> };

export function processWide<T>(key: string, create: () => T): T {
  const values = (store.gantryProcessWide ??= new Map());
  if (!values.has(key)) values.set(key, create());
  return values.get(key) as T;
}
