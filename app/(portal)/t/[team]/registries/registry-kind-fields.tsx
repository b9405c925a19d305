"use client";

import { useId } from "react";
import { FormField } from "@/components/forms/form-field";
import { FieldError } from "@/components/ui/field-error";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import type { RegistryKind } from "@/lib/registries/kind-names";

export interface KindExisting {
  kind: RegistryKind;
  username: string;
  cloud: { region?: string; roleArn?: string; externalId?: string; tenantId?: string; ambient?: boolean } | null;
}

type Errors = Record<string, string[] | undefined>;

/** The secret fields are write-only: on edit they show "unchanged" and are kept unless retyped (or the endpoint or kind changes). */
function secretHint(editing: boolean, what: string) {
  return editing
    ? `Leave empty to keep the stored ${what}; required when you change the endpoint's host, port or scheme, or the kind. It is never shown again.`
    : "Stored encrypted. It never leaves the server again.";
}

function Ambient({ allowed, existing, errors }: { allowed: boolean; existing?: KindExisting; errors: Errors }) {
  const id = useId();
  if (!allowed) return null;
  return (
    <div className="grid gap-1">
      <label htmlFor={id} className="flex items-center gap-2 text-sm">
        <input id={id} type="checkbox" name="ambient" defaultChecked={existing?.cloud?.ambient === true} className="size-4" />
        Use this Gantry&apos;s own cloud identity (instance role, IRSA, workload identity) instead of stored keys
      </label>
      <FieldError id={`${id}-error`} errors={errors.ambient} />
    </div>
  );
}

/** The fields of one registry kind. */
export function KindFields({ kind, existing, errors, ambientAllowed, typed }: { kind: RegistryKind; existing?: KindExisting; errors: Errors; ambientAllowed: boolean; typed?: Record<string, string> }) {
  const keyId = useId();
  const editing = existing !== undefined && existing.kind === kind;
  const keep = (v: string | undefined) => (editing ? v : undefined);
  const value = (k: string, fallback?: string) => typed?.[k] ?? fallback;
  const identity = editing && existing.username !== "(ambient credentials)" ? existing.username : undefined;
  switch (kind) {
    case "basic":
      return (
        <>
          <FormField name="username" label="Username" defaultValue={value("username", identity)} autoComplete="off" errors={errors.username} />
          <FormField name="password" label="Password or token" type="password" autoComplete="new-password" placeholder={editing ? "unchanged" : ""} hint={secretHint(editing, "password")} errors={errors.password} />
        </>
      );
    case "ecr":
      return (
        <>
          <FormField name="region" label="AWS region" defaultValue={value("region", keep(existing?.cloud?.region))} placeholder="read from the endpoint (….dkr.ecr.<region>.amazonaws.com)" errors={errors.region} />
          <FormField name="accessKeyId" label="Access key ID" defaultValue={value("accessKeyId", identity)} autoComplete="off" placeholder="AKIA…" errors={errors.accessKeyId} />
          <FormField name="secretAccessKey" label="Secret access key" type="password" autoComplete="new-password" placeholder={editing ? "unchanged" : ""} hint={secretHint(editing, "secret access key")} errors={errors.secretAccessKey} />
          <FormField name="roleArn" label="Role to assume (optional)" defaultValue={value("roleArn", keep(existing?.cloud?.roleArn))} placeholder="arn:aws:iam::123456789012:role/gantry-pull" hint="Gantry calls STS AssumeRole with the key, then ECR with the role." errors={errors.roleArn} />
          <FormField name="externalId" label="External ID (optional)" defaultValue={value("externalId", keep(existing?.cloud?.externalId))} autoComplete="off" errors={errors.externalId} />
          <Ambient allowed={ambientAllowed} existing={editing ? existing : undefined} errors={errors} />
        </>
      );
    case "gar":
      return (
        <>
          <div className="grid gap-1.5">
            <Label htmlFor={keyId}>Service-account key (JSON)</Label>
            <Textarea
              id={keyId}
              name="serviceAccountKey"
              rows={5}
              spellCheck={false}
              autoComplete="off"
              placeholder={editing ? `unchanged (${existing.username})` : '{ "type": "service_account", … }'}
              aria-invalid={errors.serviceAccountKey?.length ? true : undefined}
              aria-describedby={`${keyId}-hint`}
            />
            <p id={`${keyId}-hint`} className="text-xs text-zinc-500">
              {secretHint(editing, "key")} The account needs roles/artifactregistry.reader.
            </p>
            <FieldError id={`${keyId}-error`} errors={errors.serviceAccountKey} />
          </div>
          <Ambient allowed={ambientAllowed} existing={editing ? existing : undefined} errors={errors} />
        </>
      );
    case "acr":
      return (
        <>
          <FormField name="tenantId" label="Tenant ID" defaultValue={value("tenantId", keep(existing?.cloud?.tenantId))} autoComplete="off" placeholder="GUID or contoso.onmicrosoft.com" errors={errors.tenantId} />
          <FormField name="clientId" label="Client (application) ID" defaultValue={value("clientId", identity)} autoComplete="off" errors={errors.clientId} />
          <FormField name="clientSecret" label="Client secret" type="password" autoComplete="new-password" placeholder={editing ? "unchanged" : ""} hint={`${secretHint(editing, "client secret")} The service principal needs AcrPull on the registry.`} errors={errors.clientSecret} />
          <Ambient allowed={ambientAllowed} existing={editing ? existing : undefined} errors={errors} />
        </>
      );
  }
}
