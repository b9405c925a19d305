import Link from "next/link";
import { Users } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { SelectNative } from "@/components/ui/select-native";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { listCustomers } from "@/lib/licenses/customers";
import { LicenseBadge } from "./license-badge";

type Page = Awaited<ReturnType<typeof listCustomers>>;

/**
 * Customers with their license state, a search box and a state filter (plain
 * GET forms, so filters are links), and keyset pagination.
 */
export function CustomersTable({
  team,
  page,
  basePath,
  filters,
  showApp,
}: {
  team: string;
  page: Page;
  basePath: string;
  filters: { q?: string; state?: string; before?: string };
  showApp: boolean;
}) {
  const query = (extra: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ q: filters.q, state: filters.state, ...extra })) if (v) p.set(k, v);
    const s = p.toString();
    return s ? `${basePath}?${s}` : basePath;
  };
  return (
    <div className="grid grid-cols-1 gap-3">
      <form method="get" action={basePath} className="flex flex-wrap items-end gap-2" role="search">
        <Input name="q" defaultValue={filters.q} placeholder="Search name or email" aria-label="Search customers" className="max-w-xs" />
        <SelectNative name="state" defaultValue={filters.state ?? ""} aria-label="License state" className="w-40">
          <option value="">All states</option>
          <option value="active">Active</option>
          <option value="expired">Expired</option>
          <option value="revoked">Revoked</option>
        </SelectNative>
        <Button type="submit" variant="outline">
          Filter
        </Button>
      </form>
      {page.customers.length === 0 ? (
        <EmptyState
          icon={Users}
          title={filters.q || filters.state ? "No matching customers" : "No customers yet"}
          description={filters.q || filters.state ? "Try another search or state." : "Add a customer to issue their license."}
        />
      ) : (
        <div className="rounded-lg border border-zinc-200 bg-white">
          <Table data-testid="customers-table">
            <TableHeader>
              <TableRow>
                <TableHead>Customer</TableHead>
                {showApp ? <TableHead>App</TableHead> : null}
                <TableHead>Type</TableHead>
                <TableHead>License</TableHead>
                <TableHead>State</TableHead>
                <TableHead>Expires</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {page.customers.map((c) => (
                <TableRow key={c.id} data-testid={`customer-${c.name}`}>
                  <TableCell>
                    <Link href={`/t/${team}/apps/${c.app.slug}/customers/${c.id}`} className="font-medium text-indigo-700 hover:underline">
                      {c.name}
                    </Link>
                    {c.email ? <div className="text-xs text-zinc-500">{c.email}</div> : null}
                  </TableCell>
                  {showApp ? <TableCell className="font-mono text-xs">{c.app.slug}</TableCell> : null}
                  <TableCell className="capitalize">{c.type}</TableCell>
                  <TableCell className="font-mono text-xs">{c.license ? `…${c.license.fingerprint}` : "—"}</TableCell>
                  <TableCell>{c.license ? <LicenseBadge state={c.license.state} daysLeft={c.license.daysLeft} /> : null}</TableCell>
                  <TableCell className="text-zinc-600">{c.license?.expiresAt ? c.license.expiresAt.toISOString().slice(0, 10) : "never"}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      <div className="flex gap-2">
        {filters.before ? (
          <Button asChild variant="outline" size="sm">
            <Link href={query({})}>First page</Link>
          </Button>
        ) : null}
        {page.nextCursor ? (
          <Button asChild variant="outline" size="sm">
            <Link href={query({ before: page.nextCursor })}>Next page</Link>
          </Button>
        ) : null}
      </div>
    </div>
  );
}
