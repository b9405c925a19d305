import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";

interface Pull {
  id: string;
  repository: string;
  kind: string;
  reference: string;
  method: string;
  status: number;
  bytesSent: number;
  durationMs: number;
  clientIp: string | null;
  userAgent: string | null;
  createdAt: Date;
  customer?: string;
}

const size = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

/** Registry-proxy requests, newest first. */
export function PullsTable({ pulls, showCustomer }: { pulls: Pull[]; showCustomer?: boolean }) {
  return (
    <Table data-testid="pulls-table">
      <TableHeader>
        <TableRow>
          <TableHead>When</TableHead>
          {showCustomer ? <TableHead>Customer</TableHead> : null}
          <TableHead>Request</TableHead>
          <TableHead>Status</TableHead>
          <TableHead>Sent</TableHead>
          <TableHead>Client</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {pulls.map((p) => (
          <TableRow key={p.id}>
            <TableCell className="whitespace-nowrap text-xs text-zinc-600">{p.createdAt.toISOString().replace("T", " ").slice(0, 19)}</TableCell>
            {showCustomer ? <TableCell>{p.customer}</TableCell> : null}
            <TableCell className="font-mono text-xs">
              {p.method} {p.repository} {p.kind}
              {p.reference ? ` ${p.reference.length > 24 ? `${p.reference.slice(0, 19)}…` : p.reference}` : ""}
            </TableCell>
            <TableCell>{p.status}</TableCell>
            <TableCell className="text-xs">
              {size(p.bytesSent)} · {p.durationMs} ms
            </TableCell>
            <TableCell className="max-w-48 truncate text-xs text-zinc-600" title={p.userAgent ?? ""}>
              {p.clientIp ?? "?"} {p.userAgent ? `· ${p.userAgent}` : ""}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
