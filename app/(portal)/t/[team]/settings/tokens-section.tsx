"use client";

import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { SubmitButton } from "@/components/ui/submit-button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { FormField } from "@/components/forms/form-field";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";
import { ActionForm } from "./action-form";
import { createTokenAction, revokeTokenAction } from "./actions";

interface TokenRow {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
  createdBy: string | null;
  /** The creator's current role in this team; null once they left. */
  creatorRole: string | null;
  expired: boolean;
}

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : "never");

/** Why a token does not work (or works with fewer rights), if it does not. */
function TokenState({ t }: { t: TokenRow }) {
  if (t.revokedAt) return <Badge variant="secondary">revoked {day(t.revokedAt)}</Badge>;
  if (t.expired) return <Badge variant="warning">expired</Badge>;
  if (!t.creatorRole) return <Badge variant="destructive">inactive: creator left</Badge>;
  if (t.role === "admin" && t.creatorRole === "member") return <Badge variant="outline">read-only: creator is a member</Badge>;
  return <Badge variant="success">active</Badge>;
}

export function TokensSection({ team, tokens }: { team: string; tokens: TokenRow[] }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>API tokens</CardTitle>
        <CardDescription>
          For automation against <code className="font-mono">/api/v1</code>: send <code className="font-mono">Authorization: Bearer &lt;token&gt;</code>. A
          token acts as an admin or, read-only, as a member of this team, never above its creator&apos;s current role, and stops working
          when its creator leaves the team or when it expires. It is shown once and stored hashed.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-6">
        <ActionForm action={createTokenAction} team={team} className="grid gap-3" hideSuccess testId="create-token-form">
          {(state) => (
            <>
              <div className="grid gap-3 sm:grid-cols-[1fr_14rem_9rem_auto] sm:items-start">
                <FormField name="name" label="Token name" placeholder="e.g. release pipeline" errors={state.fieldErrors?.name} />
                <div className="grid gap-1.5">
                  <Label htmlFor="token-role">Acts as</Label>
                  <SelectNative id="token-role" name="role" defaultValue="admin">
                    <option value="admin">admin — can change things</option>
                    <option value="member">member — read-only</option>
                  </SelectNative>
                </div>
                <FormField
                  name="expiresInDays"
                  label="Expires in (days)"
                  type="number"
                  inputMode="numeric"
                  min={1}
                  placeholder="never"
                  errors={state.fieldErrors?.expiresInDays}
                />
                <SubmitButton pendingLabel="Creating…" className="sm:mt-6">
                  Create token
                </SubmitButton>
              </div>
              {state.ok && state.data ? (
                <div className="grid gap-2 rounded-md border border-emerald-200 bg-emerald-50 p-3" data-testid="new-token">
                  <p className="text-sm font-medium text-emerald-900">{state.message}</p>
                  <div className="flex items-center gap-2">
                    <code className="min-w-0 flex-1 truncate rounded bg-white px-2 py-1 font-mono text-sm" data-testid="new-token-value">
                      {state.data.token}
                    </code>
                    <CopyButton value={state.data.token} />
                  </div>
                </div>
              ) : null}
            </>
          )}
        </ActionForm>
        {tokens.length ? (
          <Table data-testid="tokens-table">
            <TableHeader>
              <TableRow>
                <TableHead>Name</TableHead>
                <TableHead>Role</TableHead>
                <TableHead>Token</TableHead>
                <TableHead>Created</TableHead>
                <TableHead>Last used</TableHead>
                <TableHead>Expires</TableHead>
                <TableHead>State</TableHead>
                <TableHead className="text-right">
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {tokens.map((t) => (
                <TableRow key={t.id} data-testid={`token-${t.name}`}>
                  <TableCell className="font-medium">{t.name}</TableCell>
                  <TableCell className="capitalize">{t.role}</TableCell>
                  <TableCell>
                    <code className="font-mono text-xs">{t.prefix}…</code>
                  </TableCell>
                  <TableCell className="text-zinc-600">
                    {day(t.createdAt)}
                    {t.createdBy ? ` by ${t.createdBy}` : ""}
                  </TableCell>
                  <TableCell className="whitespace-nowrap text-zinc-600" data-testid="token-last-used">
                    {day(t.lastUsedAt)}
                  </TableCell>
                  <TableCell className="whitespace-nowrap text-zinc-600">{day(t.expiresAt)}</TableCell>
                  <TableCell data-testid="token-state">
                    <TokenState t={t} />
                  </TableCell>
                  <TableCell className="text-right">
                    {t.revokedAt ? null : (
                      <ActionForm action={revokeTokenAction} team={team} hideSuccess>
                        {() => (
                          <>
                            <input type="hidden" name="tokenId" value={t.id} />
                            <SubmitButton size="sm" variant="outline" aria-label={`Revoke ${t.name}`}>
                              Revoke
                            </SubmitButton>
                          </>
                        )}
                      </ActionForm>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : null}
      </CardContent>
    </Card>
  );
}
