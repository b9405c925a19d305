"use client";

import { FormField } from "@/components/forms/form-field";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";
import { SubmitButton } from "@/components/ui/submit-button";
import { ActionForm } from "../action-form";
import { addDomainAction } from "./actions";

export function AddDomainForm({ team }: { team: string }) {
  return (
    <ActionForm action={addDomainAction} team={team} className="grid gap-3" testId="add-domain-form">
      {(state) => (
        <div className="grid gap-3 sm:grid-cols-[1fr_15rem_auto] sm:items-start">
          <FormField name="name" label="Domain name" placeholder="images.example.com" autoComplete="off" errors={state.fieldErrors?.name} />
          <div className="grid gap-1.5">
            <Label htmlFor="domain-service">Serves</Label>
            <SelectNative id="domain-service" name="service" defaultValue="proxy">
              <option value="proxy">the proxy (customers pull)</option>
              <option value="registry">Gantry&apos;s registry</option>
            </SelectNative>
          </div>
          <SubmitButton pendingLabel="Adding…" className="sm:mt-6">
            Add domain
          </SubmitButton>
        </div>
      )}
    </ActionForm>
  );
}
