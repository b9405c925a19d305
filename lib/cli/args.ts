/** Parses `--key value` and `--flag` pairs after the command name. */
export function parseArgs(argv: string[]): { command: string | undefined; options: Record<string, string | true> } {
  const [command, ...rest] = argv;
  const options: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? "";
    if (!arg.startsWith("--")) throw new CliError(`Unexpected argument "${arg}".`);
    const eq = arg.indexOf("=");
    if (eq > 0) {
      options[arg.slice(2, eq)] = arg.slice(eq + 1);
      continue;
    }
    const next = rest[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      options[arg.slice(2)] = next;
      i++;
    } else {
      options[arg.slice(2)] = true;
    }
  }
  return { command, options };
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export function requireOption(options: Record<string, string | true>, name: string): string {
  const v = options[name];
  if (typeof v !== "string" || v === "") throw new CliError(`Missing --${name}.`);
  return v;
}
