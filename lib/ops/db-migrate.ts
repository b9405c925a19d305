/**
 * Applies pending migrations to the database named by DATABASE_URL (default:
 * data/gantry.db): `npm run db:migrate`. Safe to run on every start, and from
 * several machines at once (lib/ops/migrate.ts).
 */
import { env } from "../env";
import { applyMigrations, MigrationError } from "./migrate";

applyMigrations({ databaseUrl: env().databaseUrl }).catch((e: unknown) => {
  console.error(e instanceof MigrationError ? e.message : e);
  process.exit(1);
});
