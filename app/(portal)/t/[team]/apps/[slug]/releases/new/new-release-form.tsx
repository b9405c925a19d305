"use client";

import { useActionState, useState } from "react";
import { FilePlus2, Trash2 } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { FieldError } from "@/components/ui/field-error";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { SubmitButton } from "@/components/ui/submit-button";
import { Textarea } from "@/components/ui/textarea";
import type { ActionResult } from "@/lib/http/team-action";
import { createReleaseAction } from "../actions";

interface Manifest {
  key: number;
  name: string;
  content: string;
}

/** Errors whose field is `name` or starts with `name.` / `name[`. */
function errorsFor(fieldErrors: Record<string, string[]> | undefined, ...names: string[]) {
  return Object.entries(fieldErrors ?? {})
    .filter(([k]) => names.some((n) => k === n || k.startsWith(`${n}.`) || k.startsWith(`${n}[`)))
    .flatMap(([, v]) => v);
}

export function NewReleaseForm(props: {
  team: string;
  app: string;
  suggestedVersion: string;
  latestVersion: string | null;
  manifests: { name: string; content: string }[];
  images: string[];
  /** The app's pushed chart versions, and those the latest release named (preselected). */
  charts: { reference: string; name: string; version: string; appVersion: string | null }[];
  selectedCharts: string[];
}) {
  const [state, formAction] = useActionState<ActionResult, FormData>(createReleaseAction, { ok: false });
  const [manifests, setManifests] = useState<Manifest[]>(() =>
    (props.manifests.length ? props.manifests : [{ name: "manifest.yaml", content: "" }]).map((m, key) => ({ key, ...m })),
  );
  const [nextKey, setNextKey] = useState(manifests.length);
  // Controlled fields: React resets a form's uncontrolled fields after its action runs, and an error must keep the input.
  const [version, setVersion] = useState("");
  const [notes, setNotes] = useState("");
  const [platforms, setPlatforms] = useState("");
  const [airgapPublic, setAirgapPublic] = useState(true);
  const [images, setImages] = useState(props.images.join("\n"));
  const [charts, setCharts] = useState<string[]>(() => props.selectedCharts.filter((c) => props.charts.some((o) => o.reference === c)));
  const chartErrors = errorsFor(state.fieldErrors, "charts");
  const versionErrors = errorsFor(state.fieldErrors, "version");
  const notesErrors = errorsFor(state.fieldErrors, "notes");
  const platformErrors = errorsFor(state.fieldErrors, "platforms");
  const manifestErrors = errorsFor(state.fieldErrors, "manifests", "files");
  const imageErrors = errorsFor(state.fieldErrors, "images");

  function add(files: { name: string; content: string }[]) {
    setManifests((list) => [...list.filter((m) => m.content.trim() || m.name !== "manifest.yaml"), ...files.map((f, i) => ({ key: nextKey + i, ...f }))]);
    setNextKey((k) => k + files.length);
  }
  const update = (key: number, patch: Partial<Manifest>) => setManifests((list) => list.map((m) => (m.key === key ? { ...m, ...patch } : m)));

  return (
    <form action={formAction} className="grid gap-5" noValidate data-testid="new-release-form">
      <input type="hidden" name="team" value={props.team} />
      <input type="hidden" name="app" value={props.app} />
      <input type="hidden" name="files" value={JSON.stringify(manifests.map(({ name, content }) => ({ name, content })))} />
      <input type="hidden" name="charts" value={JSON.stringify(charts)} />
      {state.message && !state.ok ? (
        <Alert variant="destructive" data-testid="new-release-error">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <div className="grid max-w-sm gap-1.5">
        <Label htmlFor="version">Version</Label>
        <Input
          id="version"
          name="version"
          value={version}
          onChange={(e) => setVersion(e.target.value)}
          placeholder={props.suggestedVersion || "1.0.0"}
          autoComplete="off"
          required
          aria-invalid={versionErrors.length ? true : undefined}
          aria-describedby={versionErrors.length ? "version-hint version-error" : "version-hint"}
        />
        <p id="version-hint" className="text-xs text-zinc-500">
          {props.latestVersion ? `The latest is ${props.latestVersion}. ` : ""}Unique per app; semantic versions sort first.
          {props.suggestedVersion && version !== props.suggestedVersion ? (
            <>
              {" "}
              <button type="button" className="font-medium text-indigo-700 hover:underline" onClick={() => setVersion(props.suggestedVersion)}>
                Use {props.suggestedVersion}
              </button>
            </>
          ) : null}
        </p>
        <FieldError id="version-error" errors={versionErrors} />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor="notes">Notes</Label>
        <Textarea
          id="notes"
          name="notes"
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
          rows={3}
          className="font-sans"
          placeholder="What changed in this release"
          aria-invalid={notesErrors.length ? true : undefined}
          aria-describedby={notesErrors.length ? "notes-error" : undefined}
        />
        <FieldError id="notes-error" errors={notesErrors} />
      </div>
      <div className="grid gap-1.5">
        <Label htmlFor="platforms">Platforms in air-gap bundles</Label>
        <Input
          id="platforms"
          name="platforms"
          value={platforms}
          onChange={(e) => setPlatforms(e.target.value)}
          placeholder="Every platform (or e.g. linux/amd64, linux/arm64)"
          autoComplete="off"
          aria-invalid={platformErrors.length ? true : undefined}
          aria-describedby={platformErrors.length ? "platforms-error" : "platforms-hint"}
        />
        <p id="platforms-hint" className="text-xs text-zinc-500">
          Multi-arch images carry only these platforms in the release&apos;s air-gap bundles (smaller files); blank carries every platform.
        </p>
        <FieldError id="platforms-error" errors={platformErrors} />
      </div>
      <label className="flex items-start gap-2 text-sm">
        <input type="checkbox" name="airgapPublic" checked={airgapPublic} onChange={(e) => setAirgapPublic(e.target.checked)} className="mt-0.5 size-4 rounded border-zinc-300" />
        <span>
          Public images in air-gap bundles too
          <span className="block text-xs text-zinc-500">An air-gapped cluster cannot pull them from the internet either; leave it on unless customers mirror them on their own.</span>
        </span>
      </label>
      <fieldset className="grid gap-3">
        <legend className="mb-1.5 text-sm font-medium text-zinc-800">Manifests</legend>
        <p className="-mt-1 text-xs text-zinc-500">Kubernetes YAML as shipped (several files, multi-document; rendered Helm output pasted as YAML).</p>
        {manifests.map((m, index) => (
          <div key={m.key} className="grid gap-1.5 rounded-md border border-zinc-200 bg-zinc-50/50 p-3">
            <div className="flex items-center gap-2">
              <Label htmlFor={`manifest-name-${m.key}`} className="sr-only">
                File name {index + 1}
              </Label>
              <Input id={`manifest-name-${m.key}`} value={m.name} onChange={(e) => update(m.key, { name: e.target.value })} className="max-w-xs font-mono text-xs" />
              <span className="flex-1" />
              <Button type="button" variant="ghost" size="sm" aria-label={`Remove ${m.name}`} onClick={() => setManifests((list) => list.filter((x) => x.key !== m.key))}>
                <Trash2 className="size-4" aria-hidden /> Remove
              </Button>
            </div>
            <Label htmlFor={`manifest-${m.key}`} className="sr-only">
              {index === 0 ? "Manifests" : `Content of ${m.name}`}
            </Label>
            <Textarea
              id={`manifest-${m.key}`}
              rows={8}
              value={m.content}
              onChange={(e) => update(m.key, { content: e.target.value })}
              placeholder={"apiVersion: apps/v1\nkind: Deployment\n…"}
              aria-invalid={manifestErrors.length ? true : undefined}
              aria-describedby={manifestErrors.length ? "manifests-error" : undefined}
            />
          </div>
        ))}
        <div className="flex flex-wrap items-center gap-3">
          <Button type="button" variant="outline" size="sm" onClick={() => add([{ name: `manifest-${nextKey + 1}.yaml`, content: "" }])}>
            <FilePlus2 className="size-4" aria-hidden /> Add a file
          </Button>
          <input
            type="file"
            accept=".yaml,.yml"
            multiple
            aria-label="Upload manifest files"
            className="text-sm"
            onChange={async (e) => {
              const list = e.target.files;
              if (!list?.length) return;
              add(await Promise.all([...list].map(async (f) => ({ name: f.name, content: await f.text() }))));
              e.target.value = "";
            }}
          />
        </div>
        <FieldError id="manifests-error" errors={manifestErrors} />
      </fieldset>
      <div className="grid gap-1.5">
        <Label htmlFor="images">Image references (one per line)</Label>
        <Textarea
          id="images"
          name="images"
          rows={4}
          value={images}
          onChange={(e) => setImages(e.target.value)}
          placeholder="quay.io/acme/api:1.4"
          aria-invalid={imageErrors.length ? true : undefined}
          aria-describedby={imageErrors.length ? "images-hint images-error" : "images-hint"}
        />
        <p id="images-hint" className="text-xs text-zinc-500">
          Images the manifests do not show (pulled by an operator at run time, for example).
        </p>
        <FieldError id="images-error" errors={imageErrors} />
      </div>
      <fieldset className="grid gap-2" aria-describedby={chartErrors.length ? "charts-hint charts-error" : "charts-hint"} data-testid="release-charts">
        <legend className="text-sm font-medium">Helm charts</legend>
        <p id="charts-hint" className="text-xs text-zinc-500">
          {props.charts.length
            ? "Charts on Gantry's registry this release ships: its licenses may pull them (within their pin), each with their own values."
            : "No charts pushed to Gantry's registry yet: push one with helm push (see the Registry tab) to ship it with a release."}
        </p>
        {props.charts.length ? (
          <div className="grid max-h-60 gap-1 overflow-y-auto rounded-md border border-zinc-200 p-2">
            {props.charts.map((c) => (
              <label key={c.reference} className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  className="mt-0.5 size-4"
                  checked={charts.includes(c.reference)}
                  onChange={(e) => setCharts((list) => (e.target.checked ? [...list, c.reference] : list.filter((x) => x !== c.reference)))}
                />
                <span className="min-w-0 wrap-anywhere">
                  <span className="font-medium">{c.name}</span> <span className="font-mono">{c.version}</span>
                  {c.appVersion ? <span className="text-zinc-500"> (app {c.appVersion})</span> : null}
                </span>
              </label>
            ))}
          </div>
        ) : null}
        <FieldError id="charts-error" errors={chartErrors} />
      </fieldset>
      <div>
        <SubmitButton pendingLabel="Probing and saving…">Create release</SubmitButton>
      </div>
    </form>
  );
}
