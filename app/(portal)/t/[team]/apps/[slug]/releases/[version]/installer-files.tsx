"use client";

import { Download } from "lucide-react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";

function download(path: string, content: string) {
  const url = URL.createObjectURL(new Blob([content], { type: path.endsWith(".json") ? "application/json" : "application/yaml" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = path.split("/").at(-1) ?? path;
  a.click();
  URL.revokeObjectURL(url);
}

/** The commands and each installer file, with Copy and Download. */
export function InstallerFiles({ commands, files }: { commands: { label: string; text: string }[]; files: { path: string; content: string }[] }) {
  return (
    <div className="grid grid-cols-1 gap-4">
      <div className="grid grid-cols-1 gap-3" data-testid="installer-commands">
        {commands.map((c) => (
          <div key={c.label} className="grid grid-cols-1 gap-1">
            <div className="flex items-center justify-between gap-2">
              <span className="text-sm font-medium">{c.label}</span>
              <CopyButton value={c.text} label={`Copy ${c.label}`} text="Copy" />
            </div>
            <pre className="overflow-x-auto rounded-md bg-zinc-950 p-3 font-mono text-xs text-zinc-100">{c.text}</pre>
          </div>
        ))}
      </div>
      <div className="grid grid-cols-1 gap-3">
        {files.map((f) => (
          <div key={f.path} className="rounded-md border border-zinc-200" data-testid="installer-file">
            <div className="flex flex-wrap items-center gap-2 px-3 py-2">
              <code className="min-w-0 basis-full font-mono text-xs break-all sm:basis-0 sm:flex-1">{f.path}</code>
              <CopyButton value={f.content} label={`Copy ${f.path}`} text="Copy" />
              <Button type="button" variant="outline" size="sm" aria-label={`Download ${f.path}`} onClick={() => download(f.path, f.content)}>
                <Download className="size-4" aria-hidden /> Download
              </Button>
            </div>
            <details>
              <summary className="cursor-pointer px-3 pb-2 text-xs text-zinc-600 hover:text-zinc-900">Show {f.path.split("/").at(-1)}</summary>
              <pre className="max-h-96 overflow-auto border-t border-zinc-200 bg-zinc-950 p-3 font-mono text-xs text-zinc-100">{f.content}</pre>
            </details>
          </div>
        ))}
      </div>
    </div>
  );
}
