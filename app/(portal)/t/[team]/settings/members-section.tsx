"use client";

import { Trash2 } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { SelectNative } from "@/components/ui/select-native";
import { SubmitButton } from "@/components/ui/submit-button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { FormField } from "@/components/forms/form-field";
import { FieldError } from "@/components/ui/field-error";
import { Label } from "@/components/ui/label";
import { ActionForm } from "./action-form";
import { cancelInvitationAction, changeRoleAction, inviteMemberAction, removeMemberAction } from "./actions";

interface Member {
  id: string;
  role: string;
  user: { id: string; email: string; name: string | null };
}

/** A pending invitation, dates as ISO strings (from listTeamInvitations). */
export interface PendingInvitation {
  id: string;
  email: string;
  role: string;
  invitedByLabel: string;
  createdAt: string;
  expiresAt: string;
  expired: boolean;
}

const ROLE_OPTIONS = [
  { value: "member", label: "Member — can view" },
  { value: "admin", label: "Admin — manages registries, licenses, members" },
  { value: "owner", label: "Owner — everything, including owners" },
];

export function MembersSection({
  team,
  members,
  myUserId,
  canManage,
  isOwner,
  invitations,
}: {
  team: string;
  members: Member[];
  myUserId: string;
  canManage: boolean;
  isOwner: boolean;
  /** Shown to those who can invite; others get an empty list. */
  invitations: PendingInvitation[];
}) {
  const roleOptions = isOwner ? ROLE_OPTIONS : ROLE_OPTIONS.filter((o) => o.value !== "owner");
  return (
    <Card>
      <CardHeader>
        <CardTitle>Members</CardTitle>
        <CardDescription>
          Owners and admins manage registries, licenses and members. Members can view. An invited person joins once they accept, after
          signing in or signing up with the invited email.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-6">
        <Table data-testid="members-table">
          <TableHeader>
            <TableRow>
              <TableHead>Member</TableHead>
              <TableHead className="w-72">Role</TableHead>
              <TableHead className="w-24 text-right">
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {members.map((m) => {
              const isMe = m.user.id === myUserId;
              const editable = canManage && (isOwner || m.role !== "owner");
              return (
                <TableRow key={m.id} data-testid={`member-${m.user.email}`}>
                  <TableCell>
                    <div className="font-medium">{m.user.name ?? m.user.email}</div>
                    <div className="text-xs text-zinc-500">
                      {m.user.email}
                      {isMe ? " (you)" : ""}
                    </div>
                  </TableCell>
                  <TableCell>
                    {editable ? (
                      <ActionForm action={changeRoleAction} team={team} className="flex items-center gap-2" hideSuccess>
                        {() => (
                          <>
                            <input type="hidden" name="membershipId" value={m.id} />
                            <SelectNative name="role" defaultValue={m.role} aria-label={`Role of ${m.user.email}`}>
                              {roleOptions.map((o) => (
                                <option key={o.value} value={o.value}>
                                  {o.value}
                                </option>
                              ))}
                            </SelectNative>
                            <SubmitButton size="sm" variant="outline">
                              Save
                            </SubmitButton>
                          </>
                        )}
                      </ActionForm>
                    ) : (
                      <span className="capitalize">{m.role}</span>
                    )}
                  </TableCell>
                  <TableCell className="text-right">
                    {editable || isMe ? <RemoveMemberButton team={team} member={m} isMe={isMe} /> : null}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>

        {canManage ? (
          <ActionForm action={inviteMemberAction} team={team} className="grid gap-3 sm:grid-cols-[1fr_14rem_auto] sm:items-end" testId="invite-form">
            {(state) => (
              <>
                <FormField name="email" label="Invite by email" type="email" placeholder="teammate@example.com" errors={state.fieldErrors?.email} />
                <div className="grid gap-1.5">
                  <Label htmlFor="invite-role">Role</Label>
                  <SelectNative id="invite-role" name="role" defaultValue="member">
                    {roleOptions.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </SelectNative>
                  <FieldError id="invite-role-error" errors={state.fieldErrors?.role} />
                </div>
                <SubmitButton pendingLabel="Inviting…">Invite</SubmitButton>
              </>
            )}
          </ActionForm>
        ) : null}
        {canManage ? <PendingInvitations team={team} invitations={invitations} isOwner={isOwner} /> : null}
      </CardContent>
    </Card>
  );
}

function RemoveMemberButton({ team, member, isMe }: { team: string; member: Member; isMe: boolean }) {
  const label = isMe ? "Leave team" : `Remove ${member.user.email}`;
  return (
    <Dialog>
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm" aria-label={label}>
          <Trash2 className="size-4" aria-hidden />
          {isMe ? "Leave" : null}
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{isMe ? "Leave this team?" : `Remove ${member.user.email}?`}</DialogTitle>
          <DialogDescription>
            {isMe ? "You will lose access to this team's apps, registries and licenses." : "They will lose access to this team at once."}
          </DialogDescription>
        </DialogHeader>
        <ActionForm action={removeMemberAction} team={team}>
          {() => (
            <DialogFooter>
              <input type="hidden" name="membershipId" value={member.id} />
              <DialogClose asChild>
                <Button type="button" variant="outline">
                  Cancel
                </Button>
              </DialogClose>
              <SubmitButton variant="destructive">{isMe ? "Leave team" : "Remove"}</SubmitButton>
            </DialogFooter>
          )}
        </ActionForm>
      </DialogContent>
    </Dialog>
  );
}

function PendingInvitations({ team, invitations, isOwner }: { team: string; invitations: PendingInvitation[]; isOwner: boolean }) {
  return (
    <section className="grid gap-2" aria-labelledby="pending-invitations-heading">
      <h3 id="pending-invitations-heading" className="text-sm font-semibold">
        Pending invitations
      </h3>
      {invitations.length === 0 ? (
        <p className="rounded-md border border-dashed border-zinc-300 px-4 py-6 text-center text-sm text-zinc-600" data-testid="no-invitations">
          No pending invitations. Invite someone by email above.
        </p>
      ) : (
        <Table data-testid="invitations-table">
          <TableHeader>
            <TableRow>
              <TableHead>Email</TableHead>
              <TableHead>Role</TableHead>
              <TableHead>Expires</TableHead>
              <TableHead className="w-24 text-right">
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {invitations.map((inv) => (
              <TableRow key={inv.id} data-testid={`invitation-${inv.email}`}>
                <TableCell>
                  <div className="font-medium break-all">{inv.email}</div>
                  <div className="text-xs text-zinc-500">
                    invited {inv.createdAt.slice(0, 10)} by {inv.invitedByLabel}
                  </div>
                </TableCell>
                <TableCell className="capitalize">{inv.role}</TableCell>
                <TableCell className="whitespace-nowrap text-zinc-600">
                  {inv.expired ? <Badge variant="warning">expired</Badge> : inv.expiresAt.slice(0, 10)}
                </TableCell>
                <TableCell className="text-right">
                  {isOwner || inv.role !== "owner" ? (
                    <ActionForm action={cancelInvitationAction} team={team} hideSuccess>
                      {() => (
                        <>
                          <input type="hidden" name="invitationId" value={inv.id} />
                          <SubmitButton size="sm" variant="outline" aria-label={`Cancel invitation of ${inv.email}`}>
                            Cancel
                          </SubmitButton>
                        </>
                      )}
                    </ActionForm>
                  ) : null}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}
