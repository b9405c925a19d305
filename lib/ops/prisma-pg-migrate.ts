/**
 * The driver adapter Prisma's CLI (migrate deploy/diff, db pull) uses for
 * PostgreSQL. Only for the CLI: the app's runtime uses PrismaPg directly (lib/db.ts).
 *
 * Upstream bug prisma/orm#27403: the WASM schema engine reads PostgreSQL's
 * catalogs, whose `name` (OID 19) and `"char"` (OID 18) columns
 * @prisma/adapter-pg 6.19.3 refuses ("Column type 'name' could not be
 * deserialized"). Both arrive from `pg` as plain strings, so they are
 * reported as text (OID 25) before the adapter maps the column types.
 */
import { PrismaPg } from "@prisma/adapter-pg";

const TEXT_OID = 25;
const CATALOG_TEXT_OIDS = new Set([18, 19]);

type Field = { dataTypeID: number };
type PerformIO = (this: unknown, query: unknown) => Promise<{ fields?: Field[] } | undefined>;
type Patchable = { performIO?: PerformIO & { gantryCatalogText?: true } };

/** Patches the queryable base class (adapter and its transactions) of one connected adapter, once. */
function readCatalogNamesAsText(adapter: object): void {
  // PrismaPgAdapter -> PgQueryable: performIO lives on the shared base, so transactions get it too.
  const base = Object.getPrototypeOf(Object.getPrototypeOf(adapter)) as Patchable;
  const original = base.performIO;
  if (!original || original.gantryCatalogText) return;
  const patched: PerformIO & { gantryCatalogText?: true } = async function (this: unknown, query: unknown) {
    const result = await original.call(this, query);
    for (const field of result?.fields ?? []) if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    return result;
  };
  patched.gantryCatalogText = true;
  base.performIO = patched;
}

export class PrismaPgForMigrate extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    readCatalogNamesAsText(adapter);
    return adapter;
  }

  override async connectToShadowDb() {
    const adapter = await super.connectToShadowDb();
    readCatalogNamesAsText(adapter);
    return adapter;
  }
}
