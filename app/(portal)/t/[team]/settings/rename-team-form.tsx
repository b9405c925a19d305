"use client";

import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import { ActionForm } from "./action-form";
import { renameTeamAction } from "./actions";

export function RenameTeamForm({ team, name }: { team: string; name: string }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>Team</CardTitle>
      </CardHeader>
      <CardContent>
        <ActionForm action={renameTeamAction} team={team} className="grid gap-3 sm:grid-cols-[1fr_auto] sm:items-end">
          {(state) => (
            <>
              <FormField name="name" label="Team name" defaultValue={name} errors={state.fieldErrors?.name} />
              <SubmitButton variant="outline">Rename</SubmitButton>
            </>
          )}
        </ActionForm>
      </CardContent>
    </Card>
  );
}
