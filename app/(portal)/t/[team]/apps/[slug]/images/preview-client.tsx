"use client";

import { useRef, useState } from "react";
import { strToU8, zipSync } from "fflate";
import { Download, Loader2, Play } from "lucide-react";
import { ImageStatusBadge } from "@/components/releases/image-status";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { Textarea } from "@/components/ui/textarea";
import { FILE_PATHS } from "@/lib/rewrite/file-paths";
import type { GeneratedFiles } from "@/lib/rewrite/generate";

interface Row {
  image: string;
  normalized: string | null;
  status: string;
  reason: string;
  warning?: string;
  rewritten: string | null;
  missingRegistry?: boolean;
  occurrences: { file: string; document: number; kind: string; name: string; container: string }[];
}
type Files = GeneratedFiles;

function download(name: string, data: BlobPart, type: string) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

export function PreviewClient(props: {
  endpoint: string;
  appSlug: string;
  proxyDomain: string;
  registryDomain: string | null;
  addRegistryHref: string;
  customers: { id: string; name: string; fingerprint: string }[];
}) {
  const [manifests, setManifests] = useState("");
  const [imageList, setImageList] = useState("");
  const [uploads, setUploads] = useState<{ name: string; content: string }[]>([]);
  const [customerId, setCustomerId] = useState("");
  const [rows, setRows] = useState<Row[]>([]);
  const [files, setFiles] = useState<Files | null>(null);
  const [summary, setSummary] = useState("");
  const [error, setError] = useState("");
  const [running, setRunning] = useState(false);
  const [tab, setTab] = useState<keyof Files>("kustomization.yaml");
  const fileInput = useRef<HTMLInputElement>(null);

  async function run() {
    setRunning(true);
    setRows([]);
    setFiles(null);
    setError("");
    setSummary("");
    const body = {
      files: [...uploads, ...(manifests.trim() ? [{ name: "pasted.yaml", content: manifests }] : [])],
      images: imageList.split("\n").map((s) => s.trim()).filter(Boolean),
      customerId: customerId || undefined,
    };
    try {
      const res = await fetch(props.endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      if (!res.body) throw new Error("no response body");
      if (!res.ok && !res.headers.get("content-type")?.includes("ndjson")) {
        const j = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
        throw new Error(j?.error?.message ?? `HTTP ${res.status}`);
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line) as { type: string; image?: Row; images?: Row[]; files?: Files; summary?: string; error?: { message: string } };
          if (msg.type === "image" && msg.image) {
            const image = msg.image;
            setRows((r) => [...r, image]);
          } else if (msg.type === "done") {
            setRows(msg.images ?? []);
            setFiles(msg.files ?? null);
            setSummary(msg.summary ?? "");
          } else if (msg.type === "error") {
            setError(msg.error?.message ?? "The preview failed.");
          }
        }
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  }

  async function onUpload(list: FileList | null) {
    if (!list) return;
    const read = await Promise.all([...list].map(async (f) => ({ name: f.name, content: await f.text() })));
    setUploads(read);
  }

  return (
    <div className="grid gap-6">
      <Card>
        <CardHeader>
          <CardTitle>Input</CardTitle>
          <CardDescription>Kubernetes manifests (several files, multi-document YAML) and/or a plain list of image references.</CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4">
          <div className="grid gap-1.5">
            <Label htmlFor="manifests">Manifests</Label>
            <Textarea id="manifests" rows={10} value={manifests} onChange={(e) => setManifests(e.target.value)} placeholder={"apiVersion: apps/v1\nkind: Deployment\n…"} />
          </div>
          <div className="flex flex-wrap items-center gap-3">
            <input ref={fileInput} type="file" accept=".yaml,.yml" multiple aria-label="Upload manifest files" onChange={(e) => void onUpload(e.target.files)} className="text-sm" />
            {uploads.length ? <span className="text-sm text-zinc-600">{uploads.map((u) => u.name).join(", ")}</span> : null}
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="image-list">Image references (one per line)</Label>
            <Textarea id="image-list" rows={3} value={imageList} onChange={(e) => setImageList(e.target.value)} placeholder="quay.io/acme/api:1.4" />
          </div>
          {props.customers.length ? (
            <div className="grid max-w-md gap-1.5">
              <Label htmlFor="license-pick">Build the pull secret from the license of</Label>
              <SelectNative id="license-pick" value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
                <option value="">no license (placeholder)</option>
                {props.customers.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} (…{c.fingerprint})
                  </option>
                ))}
              </SelectNative>
            </div>
          ) : null}
          <div>
            <Button onClick={() => void run()} disabled={running}>
              {running ? <Loader2 className="size-4 animate-spin" aria-hidden /> : <Play className="size-4" aria-hidden />}
              {running ? "Probing…" : "Preview"}
            </Button>
          </div>
        </CardContent>
      </Card>

      {error ? (
        <Alert variant="destructive" data-testid="preview-error">
          <AlertTitle>The preview could not run</AlertTitle>
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}

      {rows.length ? (
        <div className="rounded-lg border border-zinc-200 bg-white">
          <Table data-testid="preview-table">
            <TableHeader>
              <TableRow>
                <TableHead>Image</TableHead>
                <TableHead>Status</TableHead>
                <TableHead>Why</TableHead>
                <TableHead>Customers pull</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((r) => {
                return (
                  <TableRow key={r.image} data-testid="preview-row" data-status={r.status}>
                    <TableCell className="max-w-xs align-top">
                      <code className="break-all font-mono text-xs">{r.image}</code>
                      <div className="text-xs text-zinc-500">
                        {r.occurrences.map((o) => (o.kind ? `${o.file} #${o.document} ${o.kind}/${o.name}` : o.file)).filter((v, i, a) => a.indexOf(v) === i).join("; ")}
                      </div>
                    </TableCell>
                    <TableCell className="align-top">
                      <ImageStatusBadge status={r.status} />
                    </TableCell>
                    <TableCell className="max-w-md align-top text-sm">
                      {r.reason}
                      {r.warning ? <div className="mt-1 text-amber-800">{r.warning}</div> : null}
                      {r.missingRegistry ? (
                        <a href={props.addRegistryHref} className="mt-1 block text-indigo-700 hover:underline">
                          Add this registry
                        </a>
                      ) : null}
                    </TableCell>
                    <TableCell className="max-w-xs align-top">
                      <code className="break-all font-mono text-xs">{r.rewritten ?? r.image}</code>
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </div>
      ) : null}

      {files ? (
        <Card>
          <CardHeader>
            <CardTitle>What the installer applies</CardTitle>
            <CardDescription data-testid="preview-summary">{summary}</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-3">
            <div className="flex flex-wrap items-center gap-2" role="tablist" aria-label="Generated files">
              {(Object.keys(FILE_PATHS) as (keyof Files)[]).map((f) => (
                <Button key={f} role="tab" aria-selected={tab === f} variant={tab === f ? "secondary" : "ghost"} size="sm" onClick={() => setTab(f)}>
                  {f}
                </Button>
              ))}
              <span className="flex-1" />
              <Button
                variant="outline"
                size="sm"
                onClick={() => {
                  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [FILE_PATHS[name as keyof Files], strToU8(text)])));
                  download(`${props.appSlug}-gantry-files.zip`, zip.slice().buffer, "application/zip");
                }}
              >
                <Download className="size-4" aria-hidden /> Download all (.zip)
              </Button>
            </div>
            <div className="flex items-center gap-2">
              <code className="text-xs text-zinc-500">{FILE_PATHS[tab]}</code>
              <span className="flex-1" />
              <CopyButton value={files[tab]} label={`Copy ${tab}`} />
              <Button variant="outline" size="sm" onClick={() => download(tab, files[tab], "application/yaml")}>
                <Download className="size-4" aria-hidden /> Download {tab}
              </Button>
            </div>
            <pre className="max-h-[28rem] overflow-auto rounded-md bg-zinc-950 p-4 font-mono text-xs text-zinc-100" data-testid="file-content">
              {files[tab]}
            </pre>
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
