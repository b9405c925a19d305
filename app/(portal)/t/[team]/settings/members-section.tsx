"use client";

import { Trash2 } from "lucide-react";
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
import { changeRoleAction, inviteMemberAction, removeMemberAction } from "./actions";

interface Member {
  id: string;
  role: string;
  user: { id: string; email: string; name: string | null };
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
}: {
  team: string;
  members: Member[];
  myUserId: string;
  canManage: boolean;
  isOwner: boolean;
}) {
  const roleOptions = isOwner ? ROLE_OPTIONS : ROLE_OPTIONS.filter((o) => o.value !== "owner");
  return (
    <Card>
      <CardHeader>
        <CardTitle>Members</CardTitle>
        <CardDescription>Owners and admins manage registries, licenses and members. Members can view.</CardDescription>
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
                <FormField name="email" label="Add a member by email" type="email" placeholder="teammate@example.com" errors={state.fieldErrors?.email} />
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
                <SubmitButton pendingLabel="Adding…">Add member</SubmitButton>
              </>
            )}
          </ActionForm>
        ) : null}
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
