import crypto from "node:crypto";
import { embeddedSecretFile, env } from "@/lib/env";
import { log } from "@/lib/log";
import { parseKekList, StaticKekProvider, type KekProvider } from "./kek";

/**
 * The process's KEK provider. From GANTRY_KEKS when set; otherwise, in embedded
 * mode only, from a key file generated once under the data directory (with a
 * warning). Production mode refuses to start without GANTRY_KEKS (lib/env.ts).
 */
let provider: KekProvider | undefined;

export function kekProvider(): KekProvider {
  if (provider) return provider;
  const config = env();
  const source = config.keks ?? {
    list: embeddedSecretFile(
      config.dataDir,
      "kek",
      () => `local-${new Date().toISOString().slice(0, 10).replace(/-/g, "")}:${crypto.randomBytes(32).toString("base64")}`,
      (m) => log.warn(`${m} It holds the key that encrypts registry credentials: back it up with the database, or move it to GANTRY_KEKS.`),
    ),
    current: undefined,
  };
  const { keys, current } = parseKekList(source.list, source.current);
  provider = new StaticKekProvider(keys, current);
  return provider;
}

/** For tests only. */
export function setKekProviderForTests(p: KekProvider | undefined): void {
  provider = p;
}
