/** Which database a DATABASE_URL names: `file:` is SQLite, `postgres(ql)://` is PostgreSQL. */
export type DbProvider = "sqlite" | "postgresql";

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function dbProviderOf(url: string): DbProvider {
  return isPostgresUrl(url) ? "postgresql" : "sqlite";
}

/** Where each provider's schema and migrations live (paths relative to the project root). */
export const PRISMA_LAYOUT = {
  sqlite: { schema: "prisma/schema.prisma", migrations: "prisma/migrations" },
  postgresql: { schema: "prisma/postgres/schema.prisma", migrations: "prisma/postgres/migrations" },
} as const satisfies Record<DbProvider, { schema: string; migrations: string }>;
