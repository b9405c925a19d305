/** Child-process entry for startHostileRegistryProcess: argv[2] is the HostileOptions JSON. */
import { startHostileRegistry, type HostileOptions } from "./hostile";

const options = JSON.parse(process.argv[2] ?? "{}") as HostileOptions;
void startHostileRegistry(options).then((server) => {
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
});
